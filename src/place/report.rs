//! Where a report belongs: its division, from the seed's code, the publishing body's
//! name and the portal's host, and the body's level within that division.

use super::{Division, Divisions};
use crate::decode::normalize::fold_compact;

/// The division of a body named `agency`, found from a seed with `seed_code` on
/// `host` (either may be unknown): the agency's own when it lies within the seed's
/// division (a county report on a prefecture portal), else the seed's (departments
/// inherit their portal's), else the agency's, else the host's.
pub fn division_of_body(agency: &str, seed_code: Option<&str>, host: Option<&str>) -> Option<&'static Division> {
    place(Divisions::embedded(), agency, seed_code, host)
}

fn place<'a>(divisions: &'a Divisions, agency: &str, seed_code: Option<&str>, host: Option<&str>) -> Option<&'a Division> {
    let seed = seed_code.and_then(|c| divisions.get(c));
    let within = seed.map(|s| s.province_code().to_string()).or_else(|| host.and_then(|h| divisions.match_host(h)).map(|d| d.province_code().to_string()));
    let by_agency = divisions.match_agency(agency, within.as_deref());
    match (seed, by_agency) {
        (Some(s), Some(a)) if a.code.starts_with(code_prefix(&s.code)) => Some(a),
        (Some(s), _) => Some(s),
        (None, Some(a)) => Some(a),
        (None, None) => host.and_then(|h| divisions.match_host(h)),
    }
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
    fn government_versus_department() {
        let d = Divisions::embedded();
        let zt = d.get("530600").unwrap();
        assert!(is_government_of("昭通市人民政府", zt));
        assert!(!is_government_of("昭通市政务服务管理局", zt));
        assert!(is_government_of("昆明市官渡区人民政府", d.get("530111").unwrap()));
    }
}
