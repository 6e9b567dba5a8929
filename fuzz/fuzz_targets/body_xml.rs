//! Fuzzes the XML processor and its XPath subset: never panics, never overflows the stack.
//! The first line, when there is one, is also read as a rule's XPath (`XML:<first line>`) and
//! evaluated on the rest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_waf::bodies::xml::XmlDocument;

fuzz_target!(|data: &[u8]| {
    if let Some(nl) = data.iter().position(|&b| b == b'\n') {
        let (expr, rest) = data.split_at(nl);
        let expr = String::from_utf8_lossy(expr);
        if sekisho_waf::bodies::xml::check_xpath(&expr).is_ok() {
            if let Ok(doc) = XmlDocument::parse(rest.get(1..).unwrap_or_default()) {
                let _ = doc.xpath(&expr);
            }
        }
    }
    if let Ok(doc) = XmlDocument::parse(data) {
        for expr in [
            "/*",
            "//*",
            "//@*",
            "//a",
            "//@id",
            "/a/b",
            "/a//text()",
            "//node()",
        ] {
            let _ = doc.xpath(expr);
        }
        // The root's value holds every text byte, so no other single value is longer.
        if let (Ok(root), Ok(all)) = (doc.xpath("/*"), doc.xpath("//*")) {
            let longest = all.iter().map(Vec::len).max().unwrap_or(0);
            assert!(root.iter().map(Vec::len).max().unwrap_or(0) >= longest);
        }
    }
});
