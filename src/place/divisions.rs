//! The embedded division tables and the lookups over them.

use std::collections::HashMap;
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;

use crate::decode::normalize::fold_compact;

const CURRENT: &str = include_str!("divisions.csv");
const HISTORICAL: &str = include_str!("divisions-historical.csv");
const ALIASES: &str = include_str!("division-aliases.csv");
const HOSTS: &str = include_str!("hosts.csv");

/// The level of a division in GB/T 2260.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Province,
    Prefecture,
    County,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::Prefecture => "prefecture",
            Level::County => "county",
        }
    }
}

/// One administrative division in force since 2025-01-01.
#[derive(Debug, Clone)]
pub struct Division {
    pub code: String,
    pub name: String,
    pub level: Level,
    pub parent_code: Option<String>,
    pub province_name: String,
}

impl Division {
    /// The two-digit province code, as the dataset's `province_code` column holds it.
    pub fn province_code(&self) -> &str {
        &self.code[..2]
    }
}

/// All divisions, with name and host indexes.
pub struct Divisions {
    by_code: HashMap<String, Division>,
    /// Every name under which a division is known (current, historical, alias), with
    /// its code. Order does not matter: the finder reports every name found.
    names: Vec<(String, String)>,
    /// An automaton over `names`: every name inside an agency name in one pass.
    finder: AhoCorasick,
    /// Host or `.suffix` → code.
    hosts: HashMap<String, String>,
}

impl Divisions {
    /// The tables compiled into the binary, parsed once.
    pub fn embedded() -> &'static Divisions {
        static TABLES: OnceLock<Divisions> = OnceLock::new();
        TABLES.get_or_init(|| Divisions::parse(CURRENT, HISTORICAL, ALIASES, HOSTS))
    }

    fn parse(current: &str, historical: &str, aliases: &str, hosts: &str) -> Divisions {
        let mut by_code = HashMap::new();
        let mut names = Vec::new();
        for f in csv_rows(current) {
            let level = match f[2] {
                "province" => Level::Province,
                "prefecture" => Level::Prefecture,
                _ => Level::County,
            };
            names.push((f[1].to_string(), f[0].to_string()));
            by_code.insert(
                f[0].to_string(),
                Division {
                    code: f[0].to_string(),
                    name: f[1].to_string(),
                    level,
                    parent_code: (!f[3].is_empty()).then(|| f[3].to_string()),
                    province_name: f[5].to_string(),
                },
            );
        }
        // A historical name (沾益县, 2008-2015) stands for its first successor in force.
        for f in csv_rows(historical) {
            if let Some(successor) = f[8].split([';', ' ']).next()
                && by_code.contains_key(successor)
            {
                names.push((f[1].to_string(), successor.to_string()));
            }
        }
        for f in csv_rows(aliases) {
            names.push((f[2].to_string(), f[0].to_string()));
        }
        names.sort();
        names.dedup();
        let hosts = csv_rows(hosts).map(|f| (f[0].to_string(), f[1].to_string())).collect();
        let finder = AhoCorasick::new(names.iter().map(|(name, _)| name)).expect("division names build an automaton");
        Divisions { by_code, names, finder, hosts }
    }

    pub fn get(&self, code: &str) -> Option<&Division> {
        self.by_code.get(code)
    }

    /// The parent division (prefecture or province), if any.
    pub fn parent(&self, division: &Division) -> Option<&Division> {
        division.parent_code.as_deref().and_then(|c| self.get(c))
    }

    /// Finds the division an agency name belongs to: 昭通市政务服务管理局 → 昭通市,
    /// 昆明市官渡区人民政府 → 官渡区. Names shared by several divisions (鼓楼区 ×4) are
    /// resolved by a parent named in the same string, else by `within` (a code prefix
    /// such as the seed's province, `53`), else left unresolved.
    pub fn match_agency(&self, agency: &str, within: Option<&str>) -> Option<&Division> {
        let text = fold_compact(agency);
        let mut found: Vec<&Division> = self.finder.find_overlapping_iter(&text).filter_map(|m| self.get(&self.names[m.pattern().as_usize()].1)).collect();
        found.sort_by(|a, b| a.code.cmp(&b.code));
        found.dedup_by(|a, b| a.code == b.code);
        let named = |code: &str| found.iter().any(|d| d.code == code);
        // Most specific first; among equals, one whose parent is also named wins.
        let mut best: Option<(&Division, (u8, bool, bool))> = None;
        for d in &found {
            let depth = match d.level {
                Level::Province => 0,
                Level::Prefecture => 1,
                Level::County => 2,
            };
            let parent_named = d.parent_code.as_deref().is_some_and(named);
            let in_context = within.is_some_and(|w| d.code.starts_with(w));
            let rank = (depth, parent_named, in_context);
            let ambiguous = found.iter().filter(|o| o.name == d.name).count() > 1;
            if ambiguous && !parent_named && !in_context {
                continue;
            }
            if best.is_none_or(|(_, r)| rank > r) {
                best = Some((d, rank));
            }
        }
        best.map(|(d, _)| d)
    }

    /// The division whose portal is `host`, or whose province owns the host's domain
    /// (`*.yn.gov.cn` → 云南省).
    pub fn match_host(&self, host: &str) -> Option<&Division> {
        let host = host.to_ascii_lowercase();
        if let Some(code) = self.hosts.get(&host) {
            return self.get(code);
        }
        let mut suffix = host.as_str();
        while let Some(dot) = suffix[1..].find('.') {
            suffix = &suffix[dot + 1..];
            if let Some(code) = self.hosts.get(suffix) {
                return self.get(code);
            }
        }
        None
    }
}

/// Splits a simple CSV (no quoted commas in the fields we read) into rows of fields,
/// skipping the header.
fn csv_rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines().skip(1).filter(|l| !l.is_empty()).map(|l| l.split(',').collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(agency: &str) -> Option<String> {
        Divisions::embedded().match_agency(agency, None).map(|d| d.code.clone())
    }

    #[test]
    fn seed_agencies_resolve_to_their_divisions() {
        assert_eq!(code("昭通市政务服务管理局").as_deref(), Some("530600"));
        assert_eq!(code("云县人民政府").as_deref(), Some("530922"));
        assert_eq!(code("高平市人民政府办公室").as_deref(), Some("140581"));
        assert_eq!(code("昆明市官渡区人民政府").as_deref(), Some("530111"));
        assert_eq!(code("云南省人民政府").as_deref(), Some("530000"));
    }

    #[test]
    fn ambiguous_names_need_a_parent_or_context() {
        assert_eq!(code("鼓楼区人民政府"), None);
        assert_eq!(code("福州市鼓楼区人民政府").as_deref(), Some("350102"));
        let d = Divisions::embedded().match_agency("鼓楼区人民政府", Some("32"));
        assert!(d.unwrap().code.starts_with("32"));
    }

    #[test]
    fn historical_names_map_to_their_successor() {
        assert_eq!(code("沾益县人民政府").as_deref(), Some("530303"));
    }

    #[test]
    fn hosts_resolve_by_portal_then_province_domain() {
        let d = Divisions::embedded();
        assert_eq!(d.match_host("www.sxgp.gov.cn").unwrap().code, "140581");
        assert_eq!(d.match_host("WWW.ZT.GOV.CN").unwrap().code, "530600");
        assert_eq!(d.match_host("fgw.yn.gov.cn").unwrap().code, "530000");
        assert!(d.match_host("example.com").is_none());
    }
}
