//! Response variables: `RESPONSE_BODY`, `RESPONSE_STATUS`, `RESPONSE_CONTENT_TYPE`, …

use super::{push, push_num, Values, Var};
use crate::transaction::data::TxData;
use std::borrow::Cow;

pub(super) fn collect<'a>(var: Var, d: &'a TxData, out: &mut Values<'a>) -> bool {
    match var {
        Var::ResponseBody => push(out, var, Cow::Borrowed(&d.response_body)),
        Var::ResponseStatus => {
            if d.response_status != 0 {
                push_num(out, var, d.response_status);
            }
        }
        Var::ResponseProtocol => push(out, var, Cow::Borrowed(&d.response_protocol)),
        Var::ResponseContentType => {
            if let Some(v) = d.response_headers.get(b"content-type") {
                push(out, var, Cow::Borrowed(v));
            }
        }
        Var::ResponseContentLength => {
            if let Some(v) = d.response_headers.get(b"content-length") {
                push(out, var, Cow::Borrowed(v));
            }
        }
        Var::StatusLine => {
            if d.response_status != 0 {
                let mut s = d.response_protocol.clone();
                s.extend_from_slice(format!(" {}", d.response_status).as_bytes());
                push(out, var, Cow::Owned(s));
            }
        }
        Var::OutboundDataError => push(
            out,
            var,
            Cow::Borrowed(if d.outbound_data_error { b"1" } else { b"0" }),
        ),
        _ => return false,
    }
    true
}
