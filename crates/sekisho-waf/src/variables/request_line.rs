//! The request line and its parts: `REQUEST_LINE`, `REQUEST_METHOD`, `REQUEST_URI`,
//! `REQUEST_FILENAME`, `QUERY_STRING`, `FULL_REQUEST`, …

use super::{push, push_num, Values, Var};
use crate::transaction::data::TxData;
use std::borrow::Cow;

pub(super) fn collect<'a>(var: Var, d: &'a TxData, out: &mut Values<'a>) -> bool {
    let v: &[u8] = match var {
        Var::RequestLine => &d.request_line,
        Var::RequestMethod => &d.request_method,
        Var::RequestProtocol => &d.request_protocol,
        Var::RequestUri => &d.request_uri,
        Var::RequestUriRaw => &d.request_uri_raw,
        Var::RequestFilename => &d.request_filename,
        Var::RequestBasename => &d.request_basename,
        Var::QueryString => &d.query_string,
        Var::FullRequest => {
            push(out, var, Cow::Owned(full_request(d)));
            return true;
        }
        Var::FullRequestLength => {
            push_num(out, var, full_request(d).len());
            return true;
        }
        _ => return false,
    };
    push(out, var, Cow::Borrowed(v));
    true
}

/// The request line, headers and body as they would appear on the wire.
fn full_request(d: &TxData) -> Vec<u8> {
    let mut v = d.request_line.clone();
    v.extend_from_slice(b"\n");
    for (k, val) in &d.request_headers.entries {
        v.extend_from_slice(k);
        v.extend_from_slice(b": ");
        v.extend_from_slice(val);
        v.extend_from_slice(b"\n");
    }
    v.extend_from_slice(b"\n");
    v.extend_from_slice(&d.request_body);
    v
}
