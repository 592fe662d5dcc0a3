//! The one time format of the API: `yyyy-MM-ddTHH:mm:ssZ`, always UTC.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

const FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

/// Formats as `yyyy-MM-ddTHH:mm:ssZ`.
pub fn format(at: Timestamp) -> String {
    format!("{}Z", at.strftime(FORMAT))
}

/// Parses exactly `yyyy-MM-ddTHH:mm:ssZ`, the way the gateway wants `x-acs-date`,
/// `Timestamp` and a key's `StartOn`; `None` for anything else.
pub fn parse(text: &str) -> Option<Timestamp> {
    let civil = text.strip_suffix('Z')?;
    if civil.len() != "yyyy-MM-ddTHH:mm:ss".len() {
        return None;
    }
    let civil = DateTime::strptime(FORMAT, civil).ok()?;
    civil
        .to_zoned(TimeZone::UTC)
        .ok()
        .map(|zoned| zoned.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_shapes() {
        let at = parse("2023-10-26T10:22:32Z");
        assert_eq!(at.map(format).as_deref(), Some("2023-10-26T10:22:32Z"));
        for bad in [
            "2023-10-26T10:22:32",
            "2023-10-26T10:22:32+08:00",
            "2023-10-26 10:22:32Z",
            "2023-13-26T10:22:32Z",
            "2023-10-26T10:22:32.5Z",
            "",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
