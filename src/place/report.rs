//! Where a report belongs: its division, from the seed's code, the publishing body's
//! name and the portal's host, and the body's level within that division.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use super::{Division, Divisions, Level};
use crate::decode::normalize::fold_compact;

/// The division of a body named `agency`, found from a seed with `seed_code` on
/// `host` (either may be unknown): the agency's own when it lies within the seed's
/// division (a county report on a prefecture portal), else the seed's (departments
/// inherit their portal's), else the agency's, else the host's. A seed's code the
/// table does not hold is trusted too (see [`unlisted`]).
pub fn division_of_body(agency: &str, seed_code: Option<&str>, host: Option<&str>) -> Option<&'static Division> {
    place(Divisions::embedded(), agency, seed_code, host)
}

fn place(divisions: &'static Divisions, agency: &str, seed_code: Option<&str>, host: Option<&str>) -> Option<&'static Division> {
    let seed = seed_code.and_then(|c| divisions.get(c).or_else(|| unlisted(divisions, c, agency)));
    let within = seed.map(|s| s.province_code().to_string()).or_else(|| host.and_then(|h| divisions.match_host(h)).map(|d| d.province_code().to_string()));
    let by_agency = divisions.match_agency(agency, within.as_deref());
    match (seed, by_agency) {
        (Some(s), Some(a)) if a.code.starts_with(code_prefix(&s.code)) => Some(a),
        (Some(s), _) => Some(s),
        (None, Some(a)) => Some(a),
        (None, None) => host.and_then(|h| divisions.match_host(h)),
    }
}

/// The division a well-formed seed code names when the table lacks it: a division
/// newer than the table, or one the seed list's source numbers its own way. The seed
/// list is trusted: it lies in the province its first two digits name, at the level
/// its zeros give, under the parent the table has. Its name is the agency's, when the
/// agency is a government (华德区人民政府 → 华德区), so that the government is told
/// from its departments. None when the province is unknown too.
fn unlisted(divisions: &Divisions, code: &str, agency: &str) -> Option<&'static Division> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let province = divisions.get(&format!("{}0000", &code[..2]))?;
    let prefecture = divisions.get(&format!("{}00", &code[..4])).filter(|p| p.code != code && p.level == Level::Prefecture);
    let level = match (&code[2..4], &code[4..]) {
        ("00", "00") => Level::Province,
        (_, "00") => Level::Prefecture,
        _ => Level::County,
    };
    let parent_code = match level {
        Level::Province => None,
        Level::Prefecture => Some(province.code.clone()),
        Level::County => Some(prefecture.unwrap_or(province).code.clone()),
    };
    let name = fold_compact(agency).strip_suffix("人民政府").unwrap_or_default().to_string();
    Some(made(Division { code: code.to_string(), name, level, parent_code, province_name: province.name.clone() }))
}

/// A division made from a seed's code, kept for the process so that it is as
/// `&'static` as the table's: one per code and name, as many as the seed list has.
fn made(division: Division) -> &'static Division {
    static MADE: OnceLock<Mutex<HashMap<(String, String), &'static Division>>> = OnceLock::new();
    let mut made = MADE.get_or_init(Mutex::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    made.entry((division.code.clone(), division.name.clone())).or_insert_with(|| Box::leak(Box::new(division)))
}

/// A body's level: the division's own government (`province`, `prefecture`,
/// `county`), any other body of it (`department`), or `unknown`.
pub fn admin_level(agency: &str, division: Option<&Division>) -> &'static str {
    match division {
        Some(d) if is_government_of(agency, d) => d.level.as_str(),
        Some(_) => "department",
        None => "unknown",
    }
}

/// 530600 → 5306, 530000 → 53: the part of a code its subdivisions share.
fn code_prefix(code: &str) -> &str {
    let mut prefix = code;
    while prefix.len() > 2 && prefix.ends_with("00") {
        prefix = &prefix[..prefix.len() - 2];
    }
    prefix
}

/// Whether the agency is the division's government itself (昭通市人民政府), not one
/// of its departments (昭通市政务服务管理局).
fn is_government_of(agency: &str, division: &Division) -> bool {
    let a = fold_compact(agency);
    let rest = a.trim_start_matches(division.name.as_str());
    rest.is_empty() || rest == "人民政府" || (a.ends_with("人民政府") && a.contains(division.name.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn departments_inherit_the_portal_and_counties_keep_their_own() {
        let d = Divisions::embedded();
        let code = |agency: &str, seed: Option<&str>, host: Option<&str>| place(d, agency, seed, host).map(|x| x.code.clone());
        assert_eq!(code("高平市人民政府办公室", Some("140581"), None).as_deref(), Some("140581"));
        assert_eq!(code("昭通市政务服务管理局", Some("530600"), None).as_deref(), Some("530600"));
        assert_eq!(code("镇雄县人民政府", Some("530600"), None).as_deref(), Some("530627"));
        assert_eq!(code("云县人民政府", None, Some("www.ynyx.gov.cn")).as_deref(), Some("530922"));
        assert_eq!(code("某某局", None, Some("www.kmgd.gov.cn")).as_deref(), Some("530111"));
        assert_eq!(code("某某局", None, None), None);
    }

    #[test]
    fn a_seed_code_the_table_lacks_is_kept_within_its_province() {
        let d = Divisions::embedded();
        // 530690 is not in the table; the body's name is a real county elsewhere (宁城县, 内蒙古).
        let county = place(d, "宁城县人民政府", Some("530690"), Some("www.ningcheng.gov.cn")).unwrap();
        assert_eq!((county.code.as_str(), county.province_name.as_str(), county.parent_code.as_deref()), ("530690", "云南省", Some("530600")));
        assert_eq!(admin_level("宁城县人民政府", Some(county)), "county");
        let department = place(d, "宁城县教育局", Some("530690"), None).unwrap();
        assert_eq!((department.code.as_str(), admin_level("宁城县教育局", Some(department))), ("530690", "department"));
        assert_eq!(place(d, "某某区人民政府", Some("539900"), None).unwrap().level, Level::Prefecture);
        assert!(place(d, "某某局", Some("990101"), None).is_none(), "no province 99");
        assert!(place(d, "某某局", Some("53x"), None).is_none(), "not a code");
    }

    #[test]
    fn government_versus_department() {
        let d = Divisions::embedded();
        let zt = d.get("530600").unwrap();
        assert!(is_government_of("昭通市人民政府", zt));
        assert!(!is_government_of("昭通市政务服务管理局", zt));
        assert!(is_government_of("昆明市官渡区人民政府", d.get("530111").unwrap()));
    }
}
