//! The record of calls: one stdout line per call, and counts per action and result for
//! `GET /_sim/calls`.

use std::collections::BTreeMap;
use std::io::Write;

use jiff::Timestamp;

use crate::cloud::wire::{self, redact_parameters};

use super::time;

/// Writes one line to stdout and flushes it, so a reader sees it at once. A closed stdout
/// is not a reason to fail a call.
pub fn emit(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

/// What is known of one finished call.
#[derive(Debug)]
pub struct CallRecord<'a> {
    pub at: Timestamp,
    pub action: &'a str,
    /// The call's own parameters (not the signing ones); secrets are redacted here.
    pub params: &'a [(String, String)],
    pub access_key_id: Option<&'a str>,
    pub code: &'a str,
    pub http_status: u16,
    pub request_id: &'a str,
}

impl CallRecord<'_> {
    /// The log line. Values are quoted and escaped, so a line stays one line whatever a
    /// client sends.
    pub fn line(&self) -> String {
        let params: Vec<String> = redact_parameters(self.params)
            .iter()
            .map(|(name, value)| format!("{}={value:?}", name.escape_debug()))
            .collect();
        format!(
            "{} action={} accessKeyId={} code={} http={} requestId={} params=[{}]",
            time::format(self.at),
            printable(self.action),
            printable(self.access_key_id.unwrap_or("")),
            printable(self.code),
            self.http_status,
            self.request_id,
            params.join(" ")
        )
    }
}

fn printable(text: &str) -> String {
    if text.is_empty() {
        "-".to_owned()
    } else {
        text.escape_debug().to_string()
    }
}

/// Calls per action and result code (`OK` or the error code). Names the simulator does not
/// serve are counted together, so a client cannot grow the table without bound.
#[derive(Debug, Default)]
pub struct CallCounts(BTreeMap<String, BTreeMap<String, u64>>);

impl CallCounts {
    const KNOWN: &[&str] = &[
        wire::ASSOCIATE_MACSEC_KEY,
        wire::DISASSOCIATE_MACSEC_KEY,
        wire::DESCRIBE_PHYSICAL_CONNECTIONS,
        wire::ASSUME_ROLE_WITH_OIDC,
    ];

    pub fn count(&mut self, action: &str, code: &str) {
        let action = if Self::KNOWN.contains(&action) {
            action
        } else {
            "(other)"
        };
        *self
            .0
            .entry(action.to_owned())
            .or_default()
            .entry(code.to_owned())
            .or_default() += 1;
    }

    pub fn table(&self) -> &BTreeMap<String, BTreeMap<String, u64>> {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_redacts_the_cak_and_stays_one_line() {
        let params = vec![
            ("Ckn".to_owned(), "ABC".to_owned()),
            ("Cak".to_owned(), "FEDCBA9876543210".to_owned()),
            ("Odd".to_owned(), "a\nb".to_owned()),
        ];
        let record = CallRecord {
            at: Timestamp::UNIX_EPOCH,
            action: "AssociateMacSecKey",
            params: &params,
            access_key_id: None,
            code: "OK",
            http_status: 200,
            request_id: "R",
        };
        let line = record.line();
        assert_eq!(
            line,
            r#"1970-01-01T00:00:00Z action=AssociateMacSecKey accessKeyId=- code=OK http=200 requestId=R params=[Ckn="ABC" Cak="[redacted]" Odd="a\nb"]"#
        );
    }

    #[test]
    fn unknown_actions_share_one_row() {
        let mut counts = CallCounts::default();
        counts.count("AssociateMacSecKey", "OK");
        counts.count("AssociateMacSecKey", "OK");
        counts.count("Nope1", "InvalidAction.NotFound");
        counts.count("Nope2", "InvalidAction.NotFound");
        assert_eq!(counts.table()["AssociateMacSecKey"]["OK"], 2);
        assert_eq!(counts.table()["(other)"]["InvalidAction.NotFound"], 2);
    }
}
