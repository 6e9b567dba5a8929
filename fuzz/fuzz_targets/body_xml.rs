//! Fuzzes the XML processor and its XPath subset: never panics, never overflows the stack.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sekisho_waf::bodies::xml::XmlDocument;

fuzz_target!(|data: &[u8]| {
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
