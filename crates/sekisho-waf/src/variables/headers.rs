//! `REQUEST_HEADERS`, `REQUEST_COOKIES`, `RESPONSE_HEADERS` and their `_NAMES`.

use super::{push_members, Values, Var};
use crate::collection::KeySel;
use crate::transaction::data::TxData;

pub(super) fn collect<'a>(var: Var, sel: &'a KeySel, d: &'a TxData, out: &mut Values<'a>) -> bool {
    let (coll, names) = match var {
        Var::RequestHeaders => (&d.request_headers, false),
        Var::RequestHeadersNames => (&d.request_headers, true),
        Var::RequestCookies => (&d.request_cookies, false),
        Var::RequestCookiesNames => (&d.request_cookies, true),
        Var::ResponseHeaders => (&d.response_headers, false),
        Var::ResponseHeadersNames => (&d.response_headers, true),
        _ => return false,
    };
    push_members(out, var, names, coll.select(sel));
    true
}
