//! The VPC actions (version 2016-04-28): parameters in, the state machine, JSON out.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use crate::cloud::wire::{
    DescribePhysicalConnectionsResponse, MAX_PAGE_SIZE, MacsecKey, MacsecKeys, PhysicalConnection,
    PhysicalConnectionSet,
};

use super::error::ApiError;
use super::params::Params;
use super::state::{Association, Circuit, Circuits};
use super::time;

/// The only filter key the simulator serves; the operator needs no other.
const FILTER_BY_ID: &str = "PhysicalConnectionId";

pub fn associate(
    circuits: &mut Circuits,
    params: &Params,
    now: Timestamp,
    window: SignedDuration,
) -> Result<(), ApiError> {
    let request = Association {
        region_id: params.required("RegionId")?,
        physical_connection_id: params.required("PhysicalConnectionId")?,
        cipher_suite: params.required("CipherSuite")?,
        ckn: params.required("Ckn")?,
        cak: params.required("Cak")?,
    };
    circuits.associate(request, now, window)
}

pub fn disassociate(
    circuits: &mut Circuits,
    params: &Params,
    now: Timestamp,
    window: SignedDuration,
) -> Result<(), ApiError> {
    let region_id = params.required("RegionId")?;
    let id = params.required("PhysicalConnectionId")?;
    let ckn = params.required("Ckn")?;
    circuits.disassociate(region_id, id, ckn, now, window)
}

pub fn describe(
    circuits: &Circuits,
    params: &Params,
    request_id: &str,
) -> Result<DescribePhysicalConnectionsResponse, ApiError> {
    let region_id = params.required("RegionId")?;
    let page_number = number(params, "PageNumber", 1, 1..=u32::MAX)?;
    let page_size = number(params, "PageSize", 10, 1..=MAX_PAGE_SIZE)?;
    let ids = id_filter(params)?;
    let page = circuits.describe(region_id, ids.as_deref(), page_number, page_size);
    Ok(DescribePhysicalConnectionsResponse {
        request_id: request_id.to_owned(),
        page_number,
        page_size,
        total_count: u32::try_from(page.total_count).unwrap_or(u32::MAX),
        physical_connection_set: PhysicalConnectionSet {
            physical_connection_type: page.circuits.into_iter().map(describe_circuit).collect(),
        },
    })
}

fn describe_circuit(circuit: &Circuit) -> PhysicalConnection {
    let macsec_key = circuit
        .keys
        .iter()
        .map(|key| MacsecKey {
            ckn: key.ckn.clone(),
            // The real API returns the CAK too; clients must treat it as secret.
            cak: Some(key.cak.clone()),
            cipher_suite: key.suite.as_str().to_owned(),
            start_on: key.start_on.map(time::format),
            status: key.status.clone(),
        })
        .collect();
    PhysicalConnection {
        physical_connection_id: circuit.id.clone(),
        status: circuit.status.clone(),
        macsec_keys: MacsecKeys { macsec_key },
    }
}

fn number(
    params: &Params,
    name: &str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ApiError> {
    let Some(text) = params.get(name) else {
        return Ok(default);
    };
    match text.parse::<u32>() {
        Ok(value) if range.contains(&value) => Ok(value),
        _ => Err(ApiError::illegal(
            name,
            format!(
                "it must be a whole number from {} to {}.",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// The circuit ids of `Filter.N.Key=PhysicalConnectionId` / `Filter.N.Value.M`; values of
/// one filter are alternatives, several filters must all match. `None` when unfiltered.
fn id_filter(params: &Params) -> Result<Option<Vec<String>>, ApiError> {
    let mut filters: BTreeMap<u32, (Option<&str>, Vec<&str>)> = BTreeMap::new();
    for (name, value) in &params.0 {
        let Some(rest) = name.strip_prefix("Filter.") else {
            continue;
        };
        let (n, field) = rest.split_once('.').unwrap_or((rest, ""));
        let Ok(n) = n.parse::<u32>() else { continue };
        let entry = filters.entry(n).or_default();
        if field == "Key" {
            entry.0 = Some(value.as_str());
        } else if field
            .strip_prefix("Value.")
            .is_some_and(|m| m.parse::<u32>().is_ok())
        {
            entry.1.push(value.as_str());
        }
    }
    let mut ids: Option<Vec<String>> = None;
    for (n, (key, values)) in filters {
        let key = key.ok_or_else(|| ApiError::missing(&format!("Filter.{n}.Key")))?;
        if key != FILTER_BY_ID {
            return Err(ApiError::unsupported_filter(key));
        }
        if values.is_empty() {
            return Err(ApiError::missing(&format!("Filter.{n}.Value.1")));
        }
        ids = Some(match ids {
            None => values.iter().map(|value| value.to_string()).collect(),
            Some(previous) => previous
                .into_iter()
                .filter(|id| values.contains(&id.as_str()))
                .collect(),
        });
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(items: &[(&str, &str)]) -> Params {
        Params::of(items)
    }

    #[test]
    fn filters_combine_values_and_filters() {
        let one = params(&[
            ("Filter.1.Key", FILTER_BY_ID),
            ("Filter.1.Value.1", "pc-a"),
            ("Filter.1.Value.2", "pc-b"),
        ]);
        assert_eq!(
            id_filter(&one).unwrap(),
            Some(vec!["pc-a".to_owned(), "pc-b".to_owned()])
        );
        let two = params(&[
            ("Filter.1.Key", FILTER_BY_ID),
            ("Filter.1.Value.1", "pc-a"),
            ("Filter.1.Value.2", "pc-b"),
            ("Filter.2.Key", FILTER_BY_ID),
            ("Filter.2.Value.1", "pc-b"),
        ]);
        assert_eq!(id_filter(&two).unwrap(), Some(vec!["pc-b".to_owned()]));
        assert_eq!(id_filter(&params(&[])).unwrap(), None);
        let code = |p: Params| id_filter(&p).map_err(|error| error.code).err();
        assert_eq!(
            code(params(&[
                ("Filter.1.Key", "Name"),
                ("Filter.1.Value.1", "x")
            ]))
            .as_deref(),
            Some("InvalidFilterKey.ValueNotSupported")
        );
        assert_eq!(
            code(params(&[("Filter.1.Key", FILTER_BY_ID)])).as_deref(),
            Some("MissingFilter.1.Value.1")
        );
        assert_eq!(
            code(params(&[("Filter.1.Value.1", "pc-a")])).as_deref(),
            Some("MissingFilter.1.Key")
        );
    }

    #[test]
    fn paging_parameters_are_checked() {
        let circuits = Circuits::default();
        let code = |items: &[(&str, &str)]| {
            describe(&circuits, &params(items), "R")
                .map(|_| ())
                .map_err(|error| error.code)
                .err()
        };
        assert_eq!(code(&[]).as_deref(), Some("MissingRegionId"));
        assert_eq!(
            code(&[("RegionId", "r"), ("PageSize", "51")]).as_deref(),
            Some("IllegalParam.PageSize")
        );
        assert_eq!(
            code(&[("RegionId", "r"), ("PageNumber", "0")]).as_deref(),
            Some("IllegalParam.PageNumber")
        );
        let page = describe(&circuits, &params(&[("RegionId", "r")]), "R").unwrap();
        assert_eq!(
            (page.page_number, page.page_size, page.total_count),
            (1, 10, 0)
        );
    }
}
