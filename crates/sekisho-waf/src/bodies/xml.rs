//! `text/xml` / `application/xml` bodies and the XPath subset the `XML` variable needs.
//!
//! Parsed with `roxmltree`: external entities are never resolved (it has no resolver), internal
//! entities are expanded with its billion-laughs limits. The document is copied into a small
//! owned tree so that it outlives the body buffer.
//!
//! What `XML:<xpath>` yields follows ModSecurity, which calls libxml2's `xmlNodeGetContent` on
//! every node the expression selects: an element gives all its descendant text (and CDATA)
//! concatenated, an attribute its value, a text node its text.

/// Most nodes accepted in one document (elements, texts, attributes count as nodes).
const NODES_LIMIT: u32 = 1_000_000;

/// Most element nesting accepted: libxml2's default limit (ModSecurity does not set
/// `XML_PARSE_HUGE`). Checked before parsing because `roxmltree` recurses per element level.
pub const MAX_DEPTH: usize = 256;

/// XPath results may not exceed this many times the body size (plus a slack): `//*` repeats
/// each element's text in every ancestor.
const OUTPUT_FACTOR: usize = 16;
const OUTPUT_SLACK: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Attr {
    name: Vec<u8>,
    prefix: Option<Vec<u8>>,
    value: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Root,
    Element {
        name: Vec<u8>,
        /// The prefix bound to the element's namespace, if it has one.
        prefix: Option<Vec<u8>>,
        in_namespace: bool,
        attrs: Vec<Attr>,
    },
    Text(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    kind: Kind,
    children: Vec<usize>,
}

/// A parsed XML document. External entities are never resolved.
#[derive(Debug, Clone, Default)]
pub struct XmlDocument {
    /// Nodes in document order; index 0 is the root (the document node).
    nodes: Vec<Node>,
    /// Bytes of the original body, for the output budget.
    body_len: usize,
}

/// One selected item: a node, or an attribute of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    Node(usize),
    Attr(usize, usize),
}

/// One location step of the supported XPath subset.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    /// `//` before the step (descendant-or-self), else `/` (child).
    descendant: bool,
    test: Test,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Test {
    /// `*` or a (possibly prefixed) element name.
    Element(Option<Name>),
    /// `@*` or `@name`.
    Attribute(Option<Name>),
    /// `text()`.
    Text,
    /// `node()`.
    AnyNode,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Name {
    prefix: Option<Vec<u8>>,
    local: Vec<u8>,
}

impl XmlDocument {
    /// Parses `body`; a malformed document is an `Err` with the `REQBODY_ERROR_MSG` text
    /// (`XML parsing error: …`). UTF-8 (with or without BOM), UTF-16 with a BOM, and
    /// ISO-8859-1/Windows-1252 when the declaration says so are accepted.
    ///
    /// Example: `XmlDocument::parse(b"<a x='1'>t</a>")?.xpath("/*")` gives `["t"]`.
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        let fail = |e: String| format!("XML parsing error: {e}");
        let text = decode(body).map_err(fail)?;
        check_depth(&text).map_err(fail)?;
        let options = roxmltree::ParsingOptions {
            allow_dtd: true,
            nodes_limit: NODES_LIMIT,
        };
        let doc = roxmltree::Document::parse_with_options(&text, options)
            .map_err(|e| fail(e.to_string()))?;
        let mut nodes = Vec::new();
        // Document order; every parent precedes its children, so indices resolve forward.
        let mut index = std::collections::HashMap::new();
        for node in doc.root().descendants() {
            let kind = if node.is_root() {
                Kind::Root
            } else if node.is_element() {
                let tag = node.tag_name();
                let prefix = tag
                    .namespace()
                    .and_then(|ns| node.lookup_prefix(ns))
                    .map(|p| p.as_bytes().to_vec());
                let attrs = node
                    .attributes()
                    .map(|a| Attr {
                        name: a.name().as_bytes().to_vec(),
                        prefix: a
                            .namespace()
                            .and_then(|ns| node.lookup_prefix(ns))
                            .map(|p| p.as_bytes().to_vec()),
                        value: a.value().as_bytes().to_vec(),
                    })
                    .collect();
                Kind::Element {
                    name: tag.name().as_bytes().to_vec(),
                    prefix,
                    in_namespace: tag.namespace().is_some(),
                    attrs,
                }
            } else if node.is_text() {
                Kind::Text(node.text().unwrap_or_default().as_bytes().to_vec())
            } else {
                // Comments and processing instructions add nothing to any selected value.
                continue;
            };
            let id = nodes.len();
            index.insert(node.id(), id);
            if let Some(parent) = node.parent().and_then(|p| index.get(&p.id())) {
                if let Some(p) = nodes.get_mut(*parent) {
                    let p: &mut Node = p;
                    p.children.push(id);
                }
            }
            nodes.push(Node {
                kind,
                children: Vec::new(),
            });
        }
        Ok(Self {
            nodes,
            body_len: body.len(),
        })
    }

    /// Evaluates the XPath `expr` (as in `XML:/*`) and returns each matched node's string value
    /// (an element's descendant text concatenated, an attribute's value), in document order.
    /// Supported: location paths of `/` and `//` steps whose test is a name (optionally
    /// prefixed, matched against the prefix the document binds), `*`, `@name`, `@*`, `text()`
    /// or `node()` — so `/*`, `//*`, `//@*`, `//name`, `//@name`, `/root/child`,
    /// `/root//item/@id`. Predicates, functions and other axes are an `Err`.
    pub fn xpath(&self, expr: &str) -> Result<Vec<Vec<u8>>, String> {
        let steps = parse_xpath(expr)?;
        let mut current = vec![Item::Node(0)];
        for step in &steps {
            let mut next = Vec::new();
            for item in &current {
                let Item::Node(id) = *item else {
                    continue;
                };
                let context: Vec<usize> = if step.descendant {
                    self.descendants_or_self(id)
                } else {
                    vec![id]
                };
                for ctx in context {
                    self.select_children(ctx, &step.test, &mut next);
                }
            }
            next.sort_unstable();
            next.dedup();
            current = next;
        }
        let budget = self
            .body_len
            .saturating_mul(OUTPUT_FACTOR)
            .saturating_add(OUTPUT_SLACK);
        let mut total = 0usize;
        let mut out = Vec::with_capacity(current.len());
        for item in current {
            let value = self.string_value(item);
            total = total.saturating_add(value.len());
            if total > budget {
                return Err(format!(
                    "xpath `{expr}` selects more text than the size limit"
                ));
            }
            out.push(value);
        }
        Ok(out)
    }

    fn node(&self, id: usize) -> Option<&Node> {
        self.nodes.get(id)
    }

    /// `id` and all nodes below it, in document order (iterative: no recursion).
    fn descendants_or_self(&self, id: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            out.push(n);
            if let Some(node) = self.node(n) {
                stack.extend(node.children.iter().rev());
            }
        }
        out
    }

    fn select_children(&self, ctx: usize, test: &Test, out: &mut Vec<Item>) {
        let Some(node) = self.node(ctx) else {
            return;
        };
        match test {
            Test::Attribute(name) => {
                if let Kind::Element { attrs, .. } = &node.kind {
                    for (i, attr) in attrs.iter().enumerate() {
                        let matches = name
                            .as_ref()
                            .is_none_or(|n| n.local == attr.name && n.prefix == attr.prefix);
                        if matches {
                            out.push(Item::Attr(ctx, i));
                        }
                    }
                }
            }
            _ => {
                for &child in &node.children {
                    let Some(c) = self.node(child) else {
                        continue;
                    };
                    let matches = match (test, &c.kind) {
                        (Test::AnyNode, _) => true,
                        (Test::Text, Kind::Text(_)) => true,
                        (Test::Element(None), Kind::Element { .. }) => true,
                        (
                            Test::Element(Some(n)),
                            Kind::Element {
                                name,
                                prefix,
                                in_namespace,
                                ..
                            },
                        ) => {
                            n.local == *name
                                && match &n.prefix {
                                    // An unprefixed name test selects only no-namespace elements.
                                    None => !in_namespace,
                                    Some(p) => prefix.as_ref() == Some(p),
                                }
                        }
                        _ => false,
                    };
                    if matches {
                        out.push(Item::Node(child));
                    }
                }
            }
        }
    }

    fn string_value(&self, item: Item) -> Vec<u8> {
        match item {
            Item::Attr(node, i) => match self.node(node).map(|n| &n.kind) {
                Some(Kind::Element { attrs, .. }) => {
                    attrs.get(i).map(|a| a.value.clone()).unwrap_or_default()
                }
                _ => Vec::new(),
            },
            Item::Node(id) => {
                let mut out = Vec::new();
                for n in self.descendants_or_self(id) {
                    if let Some(Kind::Text(t)) = self.node(n).map(|n| &n.kind) {
                        out.extend_from_slice(t);
                    }
                }
                out
            }
        }
    }
}

/// Parses the supported XPath subset into steps.
/// Checks that `expr` is in the XPath subset [`XmlDocument::xpath`] evaluates (for rule
/// targets like `XML:/order/item/@sku`, checked when the rules load).
pub fn check_xpath(expr: &str) -> Result<(), String> {
    parse_xpath(expr).map(|_| ())
}

fn parse_xpath(expr: &str) -> Result<Vec<Step>, String> {
    let unsupported = || format!("unsupported xpath `{expr}`");
    let mut rest = expr.trim();
    if !rest.starts_with('/') {
        return Err(unsupported());
    }
    let mut steps = Vec::new();
    while !rest.is_empty() {
        let descendant = if let Some(r) = rest.strip_prefix("//") {
            rest = r;
            true
        } else if let Some(r) = rest.strip_prefix('/') {
            rest = r;
            false
        } else {
            return Err(unsupported());
        };
        let end = rest.find('/').unwrap_or(rest.len());
        let (token, after) = rest.split_at(end);
        rest = after;
        let test = match token {
            "*" => Test::Element(None),
            "@*" => Test::Attribute(None),
            "text()" => Test::Text,
            "node()" => Test::AnyNode,
            _ => {
                if let Some(attr) = token.strip_prefix('@') {
                    Test::Attribute(Some(parse_name(attr).ok_or_else(unsupported)?))
                } else {
                    Test::Element(Some(parse_name(token).ok_or_else(unsupported)?))
                }
            }
        };
        // Attributes and text have no children: they may only end the path.
        if matches!(
            steps.last(),
            Some(Step {
                test: Test::Attribute(_) | Test::Text,
                ..
            })
        ) {
            return Err(unsupported());
        }
        steps.push(Step { descendant, test });
    }
    if steps.is_empty() {
        return Err(unsupported());
    }
    Ok(steps)
}

/// `local` or `prefix:local`, each an XML name without XPath syntax in it.
fn parse_name(token: &str) -> Option<Name> {
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
            && !s.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.')
    };
    match token.split_once(':') {
        Some((p, l)) if valid(p) && valid(l) => Some(Name {
            prefix: Some(p.as_bytes().to_vec()),
            local: l.as_bytes().to_vec(),
        }),
        None if valid(token) => Some(Name {
            prefix: None,
            local: token.as_bytes().to_vec(),
        }),
        _ => None,
    }
}

/// Turns the body into text: UTF-8 (BOM dropped), UTF-16 by BOM, or Latin-1 when declared.
fn decode(body: &[u8]) -> Result<String, String> {
    if let Some(rest) = body.strip_prefix(b"\xef\xbb\xbf") {
        return String::from_utf8(rest.to_vec()).map_err(|_| "invalid UTF-8".to_owned());
    }
    let utf16 = |bytes: &[u8], big: bool| {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| match c {
                [a, b] if big => u16::from_be_bytes([*a, *b]),
                [a, b] => u16::from_le_bytes([*a, *b]),
                _ => 0,
            })
            .collect();
        String::from_utf16(&units).map_err(|_| "invalid UTF-16".to_owned())
    };
    if let Some(rest) = body.strip_prefix(b"\xfe\xff") {
        return utf16(rest, true);
    }
    if let Some(rest) = body.strip_prefix(b"\xff\xfe") {
        return utf16(rest, false);
    }
    match std::str::from_utf8(body) {
        Ok(s) => Ok(s.to_owned()),
        Err(_) => {
            let head = body.get(..body.len().min(200)).unwrap_or_default();
            let head = String::from_utf8_lossy(head).to_ascii_lowercase();
            let declared = head.starts_with("<?xml")
                && [
                    "iso-8859-1",
                    "latin1",
                    "latin-1",
                    "windows-1252",
                    "iso-8859-15",
                ]
                .iter()
                .any(|e| head.contains(e));
            if declared {
                Ok(body.iter().map(|&b| char::from(b)).collect())
            } else {
                Err("input is not proper UTF-8, indicate encoding".to_owned())
            }
        }
    }
}

/// Rejects documents nested deeper than [`MAX_DEPTH`] before `roxmltree` (which recurses per
/// level) sees them. A light scan of the markup: comments, CDATA, PIs and the DOCTYPE are
/// skipped, quotes inside tags are honoured. Entity values with markup are refused, since their
/// expansion would nest elements the scan cannot see.
fn check_depth(text: &str) -> Result<(), String> {
    let b = text.as_bytes();
    let find_from = |from: usize, needle: &[u8]| {
        b.get(from..)
            .and_then(|rest| rest.windows(needle.len()).position(|w| w == needle))
            .map(|at| from + at + needle.len())
    };
    let mut depth: usize = 0;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c != b'<' {
            i += 1;
            continue;
        }
        let rest = b.get(i..).unwrap_or_default();
        let skip_to = if rest.starts_with(b"<!--") {
            find_from(i + 4, b"-->")
        } else if rest.starts_with(b"<![CDATA[") {
            find_from(i + 9, b"]]>")
        } else if rest.starts_with(b"<?") {
            find_from(i + 2, b"?>")
        } else if rest.starts_with(b"<!") {
            Some(skip_doctype(b, i + 2)?)
        } else {
            let closing = rest.get(1) == Some(&b'/');
            let (end, self_closing) = scan_tag(b, i + 1);
            if closing {
                depth = depth.saturating_sub(1);
            } else if !self_closing {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(format!("elements nested deeper than {MAX_DEPTH}"));
                }
            }
            end
        };
        // Unterminated markup: the parser stops there too.
        let Some(next) = skip_to else {
            return Ok(());
        };
        i = next;
    }
    Ok(())
}

/// From just after `<`, finds the end of a tag (after `>`), honouring quoted attribute values;
/// also says whether it ends with `/>`.
fn scan_tag(b: &[u8], mut i: usize) -> (Option<usize>, bool) {
    let mut quote: Option<u8> = None;
    let mut prev = 0u8;
    while let Some(&c) = b.get(i) {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if c == b'>' => return (Some(i + 1), prev == b'/'),
            None => {}
        }
        prev = c;
        i += 1;
    }
    (None, false)
}

/// From just after `<!` (a DOCTYPE or other declaration), finds its end; an internal subset in
/// `[…]` is skipped with its quotes. A quoted value containing `<` is an error.
fn skip_doctype(b: &[u8], mut i: usize) -> Result<usize, String> {
    let mut quote: Option<u8> = None;
    let mut brackets = 0usize;
    let mut quoted_markup = false;
    while let Some(&c) = b.get(i) {
        match quote {
            Some(q) if c == q => {
                if quoted_markup {
                    return Err("entity values with markup are not supported".into());
                }
                quote = None;
            }
            Some(_) => quoted_markup |= c == b'<',
            None => match c {
                b'"' | b'\'' => {
                    quote = Some(c);
                    quoted_markup = false;
                }
                b'[' => brackets += 1,
                b']' => brackets = brackets.saturating_sub(1),
                b'>' if brackets == 0 => return Ok(i + 1),
                _ => {}
            },
        }
        i += 1;
    }
    Ok(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(doc: &XmlDocument, expr: &str) -> Vec<String> {
        doc.xpath(expr)
            .unwrap_or_else(|e| panic!("{expr}: {e}"))
            .into_iter()
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .collect()
    }

    const SOAP: &[u8] = br#"<?xml version="1.0"?>
<root a="1" b="two"><!-- c --><child id="x">hello <b>big</b> world</child><child id="y"><![CDATA[<script>]]></child><other/></root>"#;

    #[test]
    fn root_string_value_is_all_text() {
        let doc = XmlDocument::parse(SOAP).unwrap();
        assert_eq!(values(&doc, "/*"), vec!["hello big world<script>"]);
    }

    #[test]
    fn all_attributes() {
        let doc = XmlDocument::parse(SOAP).unwrap();
        assert_eq!(values(&doc, "//@*"), vec!["1", "two", "x", "y"]);
        assert_eq!(values(&doc, "//@id"), vec!["x", "y"]);
        assert_eq!(values(&doc, "/root/@b"), vec!["two"]);
    }

    #[test]
    fn element_paths() {
        let doc = XmlDocument::parse(SOAP).unwrap();
        assert_eq!(values(&doc, "//*").len(), 5);
        assert_eq!(
            values(&doc, "/root/child"),
            vec!["hello big world", "<script>"]
        );
        assert_eq!(values(&doc, "//b"), vec!["big"]);
        assert_eq!(values(&doc, "/root//b"), vec!["big"]);
        assert_eq!(
            values(&doc, "/root/child/text()"),
            vec!["hello ", " world", "<script>"]
        );
        assert_eq!(values(&doc, "/nope"), Vec::<String>::new());
        assert_eq!(values(&doc, "/root/other"), vec![""]);
    }

    #[test]
    fn namespaces() {
        let body = br#"<s:Envelope xmlns:s="urn:s" xmlns="urn:d"><s:Body><q k="v">1</q></s:Body></s:Envelope>"#;
        let doc = XmlDocument::parse(body).unwrap();
        assert_eq!(values(&doc, "/s:Envelope/s:Body"), vec!["1"]);
        // Unprefixed name tests select only no-namespace elements, as in XPath 1.0.
        assert!(values(&doc, "//q").is_empty());
        assert_eq!(values(&doc, "//@*"), vec!["v"]);
    }

    #[test]
    fn unsupported_xpath_is_error() {
        let doc = XmlDocument::parse(SOAP).unwrap();
        for bad in [
            "",
            "root",
            "/root[1]",
            "//a/@b/c",
            "count(//a)",
            "/a|/b",
            "/child::a",
            "/@*/x",
        ] {
            assert!(doc.xpath(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn malformed_is_error() {
        for bad in [&b"<a>"[..], b"<a></b>", b"", b"text", b"<a>\xff</a>"] {
            let err = XmlDocument::parse(bad).unwrap_err();
            assert!(err.starts_with("XML parsing error: "), "{err}");
        }
    }

    #[test]
    fn external_entities_are_never_loaded() {
        let body = br#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
        match XmlDocument::parse(body) {
            Err(e) => assert!(e.starts_with("XML parsing error: ")),
            Ok(doc) => assert!(!values(&doc, "/*")[0].contains("root:")),
        }
        let internal = br#"<!DOCTYPE r [<!ENTITY x "ent">]><r>&x;</r>"#;
        assert_eq!(
            values(&XmlDocument::parse(internal).unwrap(), "/*"),
            vec!["ent"]
        );
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut body = String::from("<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\">");
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for pair in names.windows(2) {
            let entity = format!("&{};", pair[0]).repeat(10);
            body.push_str(&format!("<!ENTITY {} \"{entity}\">", pair[1]));
        }
        body.push_str("]><r>&i;</r>");
        assert!(XmlDocument::parse(body.as_bytes()).is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let body = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
        assert!(XmlDocument::parse(body.as_bytes()).is_err());
        let ok = format!("{}x{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
        let doc = XmlDocument::parse(ok.as_bytes()).unwrap();
        assert_eq!(values(&doc, "//*").len(), MAX_DEPTH);
        let over = format!("<a>{ok}</a>");
        assert!(XmlDocument::parse(over.as_bytes()).is_err());
    }

    #[test]
    fn depth_check_is_not_fooled() {
        // `/>` inside attribute values must not hide open elements.
        let body = "<a x=\"/>\">".repeat(100_000);
        assert!(XmlDocument::parse(body.as_bytes()).is_err());
        let entity = format!(
            "<!DOCTYPE r [<!ENTITY e \"{}\">]><r>&e;</r>",
            "<a>".repeat(300)
        );
        let err = XmlDocument::parse(entity.as_bytes()).unwrap_err();
        assert!(err.contains("markup"), "{err}");
        let fine = "<r><!-- <a><a> --><![CDATA[<a><a>]]><?pi <a>?><b c='>'/></r>";
        assert_eq!(
            values(&XmlDocument::parse(fine.as_bytes()).unwrap(), "/*"),
            vec!["<a><a>"]
        );
    }

    #[test]
    fn latin1_declared() {
        let body = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>caf\xe9</a>";
        let doc = XmlDocument::parse(body).unwrap();
        assert_eq!(values(&doc, "/*"), vec!["café"]);
    }

    #[test]
    fn crs_931100_attribute_payload() {
        // The shape of CRS 931100's "XML attribute injection" test: the payload is an attribute.
        let body = br#"<?xml version="1.0"?><xml><a href="http://1.2.3.4/evil.php">x</a></xml>"#;
        let doc = XmlDocument::parse(body).unwrap();
        assert_eq!(values(&doc, "//@*"), vec!["http://1.2.3.4/evil.php"]);
    }
}
