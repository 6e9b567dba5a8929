//! Rule-written stores: `TX`, `IP`, `GLOBAL`, `SESSION`, `USER`, `RESOURCE`, `GEO`, `ENV`,
//! and `WEBSERVER_ERROR_LOG`.
//!
//! `IP`, `GLOBAL`, `SESSION`, `USER` and `RESOURCE` live for one transaction only: no
//! persistence across transactions (a documented limitation).

use super::{push_members, Values, Var};
use crate::collection::KeySel;
use crate::transaction::data::TxData;

pub(super) fn collect<'a>(var: Var, sel: &'a KeySel, d: &'a TxData, out: &mut Values<'a>) -> bool {
    let store = match var {
        Var::Tx => &d.tx,
        Var::Ip => &d.ip,
        Var::Global => &d.global,
        Var::Session => &d.session,
        Var::User => &d.user,
        Var::Resource => &d.resource,
        Var::Geo => &d.geo,
        Var::Env => &d.env,
        Var::WebserverErrorLog => {
            push_members(out, var, false, d.webserver_error_log.select(sel));
            return true;
        }
        _ => return false,
    };
    push_members(out, var, false, store.select(sel));
    true
}
