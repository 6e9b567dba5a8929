//! Request body processors: URL-encoded, multipart, JSON, XML.
//!
//! Each processor is a pure function over the buffered body bytes; none knows the engine. The
//! engine maps their output onto ModSecurity's variables:
//!
//! | processor                                   | ModSecurity variables it fills                      |
//! |---------------------------------------------|-----------------------------------------------------|
//! | [`urlencoded::parse_flagged`]               | `ARGS_POST` (body), `ARGS_GET` (query string), `URLENCODED_ERROR` |
//! | [`multipart::parse`] → [`Multipart`]        | `ARGS_POST`, `FILES*`, `MULTIPART_*`, `REQBODY_ERROR*` |
//! | [`json::parse_partial`] / [`json::parse`]   | `ARGS_POST` (`json.a.b` naming), `REQBODY_ERROR*`    |
//! | [`XmlDocument::parse`], [`XmlDocument::xpath`] | `XML:/*`, `XML://@*`, …, `REQBODY_ERROR*`        |
//!
//! Response bodies need no processor: `RESPONSE_BODY` is the raw bytes. ModSecurity's
//! `SecParseXmlIntoArgs` (XML into `ARGS`) is not provided.
//!
//! Every processor is bounded (nesting depth, number of parts, size of its output) and reports
//! a malformed or over-limit body as an error value, never a panic. The error text is exactly
//! what the engine puts in `REQBODY_ERROR_MSG` (prefixed like ModSecurity's:
//! `Multipart parsing error: …`, `JSON parsing error: …`, `XML parsing error: …`), and
//! `REQBODY_ERROR` becomes `1`.

pub mod json;
pub mod multipart;
pub mod urlencoded;
pub mod xml;

pub use multipart::{Multipart, MultipartFile, MultipartFlags, MultipartLimits};
pub use xml::XmlDocument;

/// One `(name, value)` argument as ModSecurity collects it; raw bytes, no charset assumed.
pub type Arg = (Vec<u8>, Vec<u8>);
