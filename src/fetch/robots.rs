//! robots.txt, fetched once per host per run and cached.
//!
//! Most .gov.cn hosts have none (404 → everything allowed, with our own rate still
//! applying). Crawl-delay slows the host's gate, clamped to `max_crawl_delay_secs`.

use texting_robots::Robot;

/// The rules of one host.
pub enum Rules {
    AllowAll,
    Parsed(Box<Robot>),
}

impl Rules {
    /// Parses a robots.txt body for our agent token.
    pub fn parse(agent_token: &str, body: &[u8]) -> Rules {
        match Robot::new(agent_token, body) {
            Ok(robot) => Rules::Parsed(Box::new(robot)),
            // An unparsable file forbids nothing (what Google does).
            Err(_) => Rules::AllowAll,
        }
    }

    pub fn allowed(&self, url: &str) -> bool {
        match self {
            Rules::AllowAll => true,
            Rules::Parsed(robot) => robot.allowed(url),
        }
    }

    /// Crawl-delay in seconds, if the file sets one for us.
    pub fn crawl_delay(&self) -> Option<f64> {
        match self {
            Rules::AllowAll => None,
            Rules::Parsed(robot) => robot.delay.map(f64::from),
        }
    }
}

/// The product token robots.txt groups are matched against, from the User-Agent.
pub fn agent_token(user_agent: &str) -> &str {
    user_agent.split(['/', ' ']).next().unwrap_or(user_agent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_group_and_star_group_are_honoured() {
        let txt = b"User-agent: *\nDisallow: /private/\n\nUser-agent: nianbao\nDisallow: /zwgk/secret/\nCrawl-delay: 3\n";
        let rules = Rules::parse("nianbao", txt);
        assert!(!rules.allowed("http://www.zt.gov.cn/zwgk/secret/a.html"));
        assert!(rules.allowed("http://www.zt.gov.cn/zwgk/xxgknb/"));
        assert_eq!(rules.crawl_delay(), Some(3.0));
        let other = Rules::parse("someone", txt);
        assert!(!other.allowed("http://www.zt.gov.cn/private/x"));
        assert_eq!(agent_token("nianbao/0.1.0 (research)"), "nianbao");
    }
}
