//! Discovery on eight portals in the CMS styles real portals use, holding 61 reports
//! of 2015-2024 among 25 near misses (notices about the reports, work plans, website
//! forms, government work reports, budgets, 公积金 reports): recall, precision, and
//! the agency, year and province of every report found. And a crawler trap.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use support::mock_web::{MockWeb, Page, Site, fixtures};
use support::parquet_read::{read_table, string};
use support::run::CrawlSetup;

/// A report article (or near miss) as a plain page with the report's sections.
fn article(title: &str, publisher: Option<&str>) -> String {
    let meta = publisher
        .map(|p| format!("<table class=\"xxgk\"><tr><td>索引号：</td><td>11530600MB0000</td><td>发布机构：</td><td>{p}</td></tr></table>"))
        .unwrap_or_default();
    format!(
        "<html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>{meta}<h1>{title}</h1><div class=\"TRS_Editor\">\
         <p>一、总体情况</p><p>二、主动公开政府信息情况</p><p>三、收到和处理政府信息公开申请情况</p><p>四、政府信息公开行政复议、行政诉讼情况</p>\
         <p>五、存在的主要问题及改进情况</p><p>六、其他需要报告的事项</p></div></body></html>"
    )
}

fn list(items: &[(String, String)], tail: &str) -> String {
    let lis: String = items.iter().map(|(href, t)| format!("<li><a href=\"{href}\" title=\"{t}\">{t}</a><span>2024-01-20</span></li>")).collect();
    format!("<html><head><meta charset=\"utf-8\"></head><body><ul class=\"list\">{lis}</ul>{tail}</body></html>")
}

const NEAR: [&str; 8] = [
    "关于做好{y}年政府信息公开工作年度报告编制发布工作的通知",
    "{a}{y}年政务公开工作要点",
    "{a}门户网站{y}年政府网站工作年度报表",
    "{y}年{a}政府工作报告",
    "{a}{y}年部门预算公开",
    "{a}{y}年度决算公开",
    "{a}住房公积金{y}年年度报告",
    "图解：{a}{y}年政府信息公开工作年度报告",
];

/// What the test expects: report URL → (agency, year, province).
type Truth = BTreeMap<String, (String, String, String)>;

struct Web {
    sites: Vec<Site>,
    seeds: Vec<String>,
    hosts: Vec<String>,
    truth: Truth,
    near_misses: usize,
}

impl Web {
    fn near(&mut self, agency: &str, k: usize, year: u32) -> String {
        self.near_misses += 1;
        NEAR[k % NEAR.len()].replace("{y}", &year.to_string()).replace("{a}", agency)
    }

    fn expect(&mut self, url: String, agency: &str, year: u32, province: &str) {
        self.truth.insert(url, (agency.to_string(), year.to_string(), province.to_string()));
    }

    fn seed(&mut self, host: &str, agency: &str, code: &str) {
        self.seeds.push(format!("http://{host}/,{agency},{code}"));
        self.hosts.push(host.to_string());
    }
}

fn build() -> Web {
    let mut w = Web { sites: vec![], seeds: vec![], hosts: vec![], truth: Truth::new(), near_misses: 0 };

    // 1. TRS WCM in GBK: createPageHTML over three pages.
    let (host, agency) = ("www.sxgp.gov.cn", "高平市人民政府办公室");
    let mut site = Site::empty(host);
    site.gbk = true;
    site.content_type = "text/html".into();
    let mut pages: Vec<Vec<(String, String)>> = vec![vec![], vec![], vec![]];
    for (k, year) in (2015..2025).enumerate() {
        let title = format!("{agency}{year}年政府信息公开工作年度报告");
        let href = format!("./{}01/t{}0125_{k}.html", year + 1, year + 1);
        site = site.html(&format!("/zfxxgk/zfxxgknb/{}", &href[2..]), &article(&title, None));
        w.expect(format!("http://{host}/zfxxgk/zfxxgknb/{}", &href[2..]), agency, year, "山西省");
        pages[k % 3].push((href, title));
    }
    for k in 0..4 {
        let t = w.near("高平市", k, 2020 + k as u32);
        pages[k % 3].push((format!("./2024/t2024_n{k}.html"), t));
    }
    for (n, items) in pages.iter().enumerate() {
        let path = if n == 0 { "/zfxxgk/zfxxgknb/".to_string() } else { format!("/zfxxgk/zfxxgknb/index_{n}.html") };
        site = site.html(&path, &list(items, &format!("<script>createPageHTML(3, {n}, \"index\", \"html\");</script>")));
    }
    site = site.html("/", "<a href=\"/zfxxgk/\">政府信息公开</a>").html("/zfxxgk/", "<a href=\"./zfxxgknb/\">政府信息公开年报</a>");
    w.sites.push(site);
    w.seed(host, "高平市人民政府", "140581");

    // 2. Hanweb JCMS: records in a script datastore, the rest from dataproxy.jsp by POST.
    let (host, agency) = ("www.kmgd.gov.cn", "昆明市官渡区人民政府");
    let mut records = Vec::new();
    for (k, year) in (2016..2025).enumerate() {
        let title = format!("{agency}{year}年政府信息公开工作年度报告");
        let path = format!("/art/{}/1/20/art_3260_{k}.html", year + 1);
        w.expect(format!("http://{host}{path}"), agency, year, "云南省");
        records.push((path, title));
    }
    for k in 0..4 {
        let t = w.near("官渡区", k + 2, 2021 + k as u32);
        records.insert(2 + 2 * k, (format!("/art/2024/2/1/art_3260_n{k}.html"), t));
    }
    let rec = |items: &[(String, String)]| -> String {
        items.iter().map(|(h, t)| format!("<record><![CDATA[<li><a href=\"{h}\" title=\"{t}\">{t}</a></li>]]></record>")).collect()
    };
    let mut site = Site::empty(host);
    for (path, title) in &records {
        site = site.html(path, &article(title, None));
    }
    let total = records.len();
    site = site
        .html("/", "<a href=\"/col/col3245/index.html\">政府信息公开</a>")
        .html("/col/col3245/index.html", "<a href=\"/col/col3260/index.html\">政府信息公开年报</a>")
        .html(
            "/col/col3260/index.html",
            &format!(
                "<div id=\"4001\"><script type=\"text/xml\"><datastore><nextgroup><![CDATA[<a href=\"/module/web/jpage/dataproxy.jsp?page=1&webid=1&path=/&columnid=3260&unitid=4001&webname=%E5%AE%98%E6%B8%A1&permissiontype=0\"></a>]]></nextgroup><recordset>{}</recordset></datastore></script></div>",
                rec(&records[..3])
            ),
        )
        .html("/module/web/jpage/dataproxy.jsp?startrecord=4&endrecord=12&perpage=3", &format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><datastore><totalrecord>{total}</totalrecord><recordset>{}</recordset></datastore>", rec(&records[3..12])))
        .html("/module/web/jpage/dataproxy.jsp?startrecord=13&endrecord=21&perpage=3", &format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><datastore><totalrecord>{total}</totalrecord><recordset>{}</recordset></datastore>", rec(&records[12..])));
    w.sites.push(site);
    w.seed(host, agency, "530111");

    // 3. Plain CMS, ?page=N with 下一页; page 2 holds only near misses (empty after filtering, not the end).
    let (host, agency) = ("www.ynyx.gov.cn", "云县人民政府");
    let mut site = Site::empty(host).html("/", "<a href=\"/xxgk/\">信息公开</a>").html("/xxgk/", "<a href=\"/xxgk/nb/?page=1\">政府信息公开年报</a>");
    let mut pages: Vec<Vec<(String, String)>> = vec![vec![], vec![], vec![]];
    for (k, year) in (2016..2024).enumerate() {
        let title = format!("{agency}{year}年政府信息公开工作年度报告");
        let path = format!("/info/1025/{}.htm", 10700 + k);
        site = site.html(&path, &article(&title, None));
        w.expect(format!("http://{host}{path}"), agency, year, "云南省");
        pages[if k < 4 { 0 } else { 2 }].push((path, title));
    }
    for k in 0..3 {
        let t = w.near("云县", k + 4, 2022);
        pages[1].push((format!("/info/1025/n{k}.htm"), t));
    }
    for (n, items) in pages.iter().enumerate() {
        let next = if n < 2 { format!("<a href=\"/xxgk/nb/?page={}\">下一页</a>", n + 2) } else { String::new() };
        site = site.html(&format!("/xxgk/nb/?page={}", n + 1), &list(items, &next));
    }
    w.sites.push(site);
    w.seed(host, agency, "530922");

    // 4. Attachment-only portal: the list links PDF and Word files; old titles use the
    //    historical name 沾益县 (now 沾益区).
    let host = "www.zhanyi.gov.cn";
    let docx = std::fs::read(fixtures().join("extract/gaoping_2023_trs_word_cells.docx")).unwrap();
    let mut items = Vec::new();
    let mut site = Site::empty(host).html("/", "<a href=\"/zwgk/gknb/\">政府信息公开年报</a>");
    for (k, year) in (2015..2021).enumerate() {
        let agency = if year < 2016 { "沾益县人民政府" } else { "沾益区人民政府" };
        let title = format!("{agency}{year}年政府信息公开工作年度报告");
        let (path, body) =
            if k % 2 == 0 { (format!("/uploads/nb{year}.pdf"), b"%PDF-1.4\n%scan\n".to_vec()) } else { (format!("/uploads/nb{year}.docx"), docx.clone()) };
        site = site.page(&path, Page { body, ..Page::html(200, "") }.header("Content-Type", "application/octet-stream"));
        w.expect(format!("http://{host}{path}"), agency, year, "云南省");
        items.push((path, title));
    }
    for k in 0..2 {
        let t = w.near("沾益区", k + 4, 2021);
        items.push((format!("/uploads/n{k}.pdf"), t));
    }
    w.sites.push(site.html("/zwgk/gknb/", &list(&items, "")));
    w.seed(host, "", "530303");

    // 5. 集约化 portal: six departments' own report columns behind 部门信息公开; some
    //    titles name no body, which comes from the department page or 发布机构.
    let host = "www.zt.gov.cn";
    let departments = ["昭通市政务服务管理局", "昭通市财政局", "昭通市教育体育局", "昭通市卫生健康委员会", "昭通市生态环境局", "昭通市审计局"];
    let mut site = Site::empty(host).html("/", "<a href=\"/zwgk/\">政务公开</a>");
    let mut hub = String::new();
    for (d, dep) in departments.iter().enumerate() {
        hub.push_str(&format!("<li><a href=\"/zwgk/bm/{d}/\">{dep}</a></li>"));
        site = site.html(&format!("/zwgk/bm/{d}/"), "<a href=\"./jgzn/\">机构职能</a><a href=\"./xxgknb/\">政府信息公开年报</a>");
        let mut items = Vec::new();
        for year in 2019..(2021 + (d as u32 % 2)) {
            let title = if d % 3 == 0 {
                format!("{year}年政府信息公开工作年度报告")
            } else {
                format!("{dep}{year}年政府信息公开工作年度报告")
            };
            let path = format!("/zwgk/bm/{d}/xxgknb/{year}.html");
            site = site.html(&path, &article(&title, (d == 3).then_some(dep)));
            w.expect(format!("http://{host}{path}"), dep, year, "云南省");
            items.push((path, title));
        }
        let t = w.near(dep, d, 2022);
        items.push((format!("/zwgk/bm/{d}/xxgknb/n.html"), t));
        site = site.html(&format!("/zwgk/bm/{d}/xxgknb/"), &list(&items, ""));
    }
    w.sites.push(site.html("/zwgk/", "<a href=\"/zwgk/bmxxgk/\">部门信息公开</a>").html("/zwgk/bmxxgk/", &format!("<ul>{hub}</ul>")));
    w.seed(host, "昭通市人民政府", "530600");

    // 6. TRS with .shtml pages (createPage).
    let (host, agency) = ("www.kmpl.gov.cn", "昆明市盘龙区人民政府");
    let mut site = Site::empty(host).html("/", "<a href=\"/zfxxgk/\">政府信息公开</a>").html("/zfxxgk/", "<a href=\"./xxgknb/\">信息公开年报</a>");
    let mut pages: Vec<Vec<(String, String)>> = vec![vec![], vec![]];
    for (k, year) in (2020..2025).enumerate() {
        let title = format!("{agency}{year}年度政府信息公开工作年度报告");
        let href = format!("./{}02/t{}0210_{k}.shtml", year + 1, year + 1);
        site = site.html(&format!("/zfxxgk/xxgknb/{}", &href[2..]), &article(&title, None));
        w.expect(format!("http://{host}/zfxxgk/xxgknb/{}", &href[2..]), agency, year, "云南省");
        pages[k % 2].push((href, title));
    }
    for (k, page) in pages.iter_mut().enumerate() {
        let t = w.near("盘龙区", k + 1, 2023);
        page.push((format!("./2024/n{k}.shtml"), t));
    }
    for (n, items) in pages.iter().enumerate() {
        let path = if n == 0 { "/zfxxgk/xxgknb/".to_string() } else { format!("/zfxxgk/xxgknb/index_{n}.shtml") };
        site = site.html(&path, &list(items, &format!("<script>createPage(2, {n}, \"index\", \"shtml\");</script>")));
    }
    w.sites.push(site);
    w.seed(host, agency, "530103");

    // 7. The column three clicks deep: 政务公开 → 法定主动公开内容 → 政府信息公开年报.
    let (host, agency) = ("www.kmxs.gov.cn", "昆明市西山区人民政府");
    let mut items = Vec::new();
    let mut site = Site::empty(host)
        .html("/", "<a href=\"/zwgk/\">政务公开</a><a href=\"/news/\">新闻</a>")
        .html("/zwgk/", "<a href=\"/zwgk/xxgk/\">政府信息公开</a>")
        .html("/zwgk/xxgk/", "<a href=\"/zwgk/xxgk/fdzdgk/\">法定主动公开内容</a>")
        .html("/zwgk/xxgk/fdzdgk/", "<a href=\"/zwgk/xxgk/fdzdgk/zfxxgknb/\">政府信息公开年报</a>");
    for year in 2019..2024 {
        let title = format!("{agency}{year}年政府信息公开工作年度报告");
        let path = format!("/zwgk/xxgk/fdzdgk/zfxxgknb/{year}.html");
        site = site.html(&path, &article(&title, None));
        w.expect(format!("http://{host}{path}"), agency, year, "云南省");
        items.push((path, title));
    }
    for k in 0..2 {
        let t = w.near("西山区", k + 6, 2023);
        items.push((format!("/zwgk/xxgk/fdzdgk/zfxxgknb/n{k}.html"), t));
    }
    w.sites.push(site.html("/zwgk/xxgk/fdzdgk/zfxxgknb/", &list(&items, "")));
    w.seed(host, agency, "530112");

    // 8. Report articles whose tables are in a TRS appendix (Word file).
    let (host, agency) = ("www.daguan.gov.cn", "大关县人民政府");
    let mut items = Vec::new();
    let mut site = Site::empty(host).html("/", "<a href=\"/xxgk/nb/\">政府信息公开年报</a>");
    for year in 2021..2025 {
        let title = format!("{agency}{year}年政府信息公开工作年度报告");
        let path = format!("/xxgk/nb/{year}/t{year}_1.html");
        let body = article(&title, None)
            .replace("</div>", &format!("<p><a appendix=\"true\" href=\"./P0{year}.docx\" OLDSRC=\"/protect/P0{year}.docx\">附件</a></p></div>"));
        site = site.html(&path, &body).page(&format!("/xxgk/nb/{year}/P0{year}.docx"), Page { body: docx.clone(), ..Page::html(200, "") });
        w.expect(format!("http://{host}{path}"), agency, year, "云南省");
        items.push((path, title));
    }
    for k in 0..2 {
        let t = w.near("大关县", k, 2024);
        items.push((format!("/xxgk/nb/n{k}.html"), t));
    }
    w.sites.push(site.html("/xxgk/nb/", &list(&items, "")));
    w.seed(host, agency, "530624");
    w
}

#[test]
fn eight_portals_recall_precision_and_metadata() {
    let web_def = build();
    assert!(web_def.truth.len() >= 60 && web_def.near_misses >= 25, "{} reports, {} near misses", web_def.truth.len(), web_def.near_misses);
    let hosts: Vec<&str> = web_def.hosts.iter().map(String::as_str).collect();
    let web = MockWeb::start(web_def.sites);
    let setup = CrawlSetup::new(&web, &hosts, &web_def.seeds, "per_host_rps = 100.0");
    let (ok, log) = setup.crawl();
    assert!(ok, "{log}");

    let mut found: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    let mut with_facts = BTreeSet::new();
    for (province, year, batch) in read_table(setup.out(), "reports") {
        for i in 0..batch.num_rows() {
            let url = string(&batch, "url", i).unwrap();
            let n = batch.column_by_name("n_facts").unwrap().as_any().downcast_ref::<arrow_array::Int64Array>().unwrap().value(i);
            if n > 0 {
                with_facts.insert(url.clone());
            }
            found.insert(url, (string(&batch, "agency", i).unwrap(), year.clone(), province.clone()));
        }
    }
    let truth = &web_def.truth;
    let hits = found.keys().filter(|u| truth.contains_key(*u)).count();
    let recall = hits as f64 / truth.len() as f64;
    let precision = hits as f64 / found.len().max(1) as f64;
    let right = truth.iter().filter(|(u, want)| found.get(*u) == Some(want)).count();
    eprintln!("{} reports expected, {} found: recall {recall:.3}, precision {precision:.3}, metadata right {right}/{hits}", truth.len(), found.len());
    let missed: Vec<_> = truth.keys().filter(|u| !found.contains_key(*u)).collect();
    let extra: Vec<_> = found.keys().filter(|u| !truth.contains_key(*u)).collect();
    let wrong: Vec<_> = truth.iter().filter(|(u, want)| found.get(*u).is_some_and(|g| g != *want)).map(|(u, w)| (u, w, &found[u])).collect();
    assert!(recall >= 0.98, "missed: {missed:#?}");
    assert!(precision >= 0.99, "not reports: {extra:#?}");
    assert!(right as f64 >= 0.99 * hits as f64, "wrong metadata (want, got): {wrong:#?}");

    // The Hanweb pages after the first came by POST with the column's parameters.
    let posts: Vec<_> = web.hits().into_iter().filter(|h| h.method == "POST").collect();
    assert_eq!(posts.len(), 2, "two dataproxy.jsp windows");
    assert!(posts.iter().all(|h| h.body.contains("columnid=3260") && h.body.contains("unitid=4001")));
    // Tables in an attachment are read: the Word appendix of every 大关县 report.
    let daguan = truth.keys().filter(|u| u.contains("daguan")).count();
    assert_eq!(with_facts.iter().filter(|u| u.contains("daguan")).count(), daguan);
}

#[test]
fn an_endless_pager_costs_at_most_the_list_budget_and_is_recorded() {
    let host = "www.trap.gov.cn";
    let site = Site::empty(host).html("/", "<a href=\"/nb/?page=1\">政府信息公开年报</a>").dynamic(|path| {
        // Every page links a "next" page with a fresh query string: an endless calendar.
        let n: u64 = path.split("page=").nth(1)?.split('&').next()?.parse().ok()?;
        Some(Page::html(200, &format!("<ul><li>第{n}页</li></ul><a href=\"/nb/?page={}&_t={}\">下一页</a>", n + 1, n * 7919)))
    });
    let web = MockWeb::start(vec![site]);
    let setup = CrawlSetup::new(&web, &[host], &[format!("http://{host}/,,530600")], "per_host_rps = 100.0\n[discover]\nmax_list_pages = 15");
    let (ok, log) = setup.crawl();
    assert!(ok, "{log}");
    let list_pages = web.hits().iter().filter(|h| h.path.starts_with("/nb/")).count();
    assert!(list_pages <= 15, "{list_pages} list pages fetched");
    assert!(log.contains("list budget"), "the stop is recorded:\n{log}");
}

#[test]
fn an_empty_hanweb_window_ends_its_list_and_blocks_nothing() {
    // The column page embeds all three of its records and no total, so the next window
    // is asked for; Hanweb answers it with a short, well-formed, empty datastore (the
    // 171 bytes real portals send). A second column on the same host comes after.
    let host = "www.ynyx.gov.cn";
    let agency = "云县人民政府";
    let record = |k: usize, year: u32| {
        format!("<record><![CDATA[<li><a href=\"/art/{}/1/31/art_1_{k}.html\">{agency}{year}年政府信息公开工作年度报告</a></li>]]></record>", year + 1)
    };
    let mut site = Site::empty(host)
        .html("/", "<a href=\"/col/col1/index.html\">政府信息公开年报</a><a href=\"/col/col2/index.html\">信息公开年报</a>")
        .html(
            "/col/col1/index.html",
            &format!(
                "<script type=\"text/xml\"><datastore><nextgroup><![CDATA[<a href=\"/module/web/jpage/dataproxy.jsp?page=1&webid=1&columnid=1&unitid=9\"></a>]]></nextgroup><recordset>{}{}{}</recordset></datastore></script>",
                record(0, 2021),
                record(1, 2022),
                record(2, 2023)
            ),
        )
        .html(
            "/module/web/jpage/dataproxy.jsp?startrecord=4&endrecord=12&perpage=3",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><datastore><nextgroup><![CDATA[]]></nextgroup><totalrecord>3</totalrecord><recordset></recordset></datastore>",
        )
        .html("/col/col2/index.html", &format!("<ul>{}</ul>", "<li><a href=\"/art/2025/1/31/art_2_9.html\">云县人民政府2024年政府信息公开工作年度报告</a></li>"));
    for (k, year) in [(0, 2021), (1, 2022), (2, 2023)] {
        site = site.html(&format!("/art/{}/1/31/art_1_{k}.html", year + 1), &article(&format!("{agency}{year}年政府信息公开工作年度报告"), None));
    }
    site = site.html("/art/2025/1/31/art_2_9.html", &article("云县人民政府2024年政府信息公开工作年度报告", None));
    let web = MockWeb::start(vec![site]);
    let setup = CrawlSetup::new(&web, &[host], &[format!("http://{host}/,{agency},530922")], "per_host_rps = 100.0");
    let (ok, log) = setup.crawl();
    assert!(ok, "{log}");
    let window = format!("http://{host}/module/web/jpage/dataproxy.jsp?startrecord=4&endrecord=12&perpage=3");
    assert_eq!(setup.outcome(&window).as_deref(), Some("ok"), "an empty window is the end of a list");
    let blocked: i64 = setup.state().query_row("SELECT COUNT(*) FROM hosts WHERE status = 'blocked'", [], |r| r.get(0)).unwrap();
    assert_eq!(blocked, 0, "{log}");
    for url in ["/art/2022/1/31/art_1_0.html", "/art/2024/1/31/art_1_2.html", "/art/2025/1/31/art_2_9.html"] {
        assert_eq!(setup.outcome(&format!("http://{host}{url}")).as_deref(), Some("report"), "{url}");
    }
}
