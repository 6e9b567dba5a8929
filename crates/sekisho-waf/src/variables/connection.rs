//! Connection and server variables: `REMOTE_ADDR`, `SERVER_PORT`, `UNIQUE_ID`, …

use super::{push, push_num, Values, Var};
use crate::transaction::data::TxData;
use std::borrow::Cow;

pub(super) fn collect<'a>(var: Var, d: &'a TxData, out: &mut Values<'a>) -> bool {
    match var {
        Var::RemoteAddr | Var::RemoteHost => {
            push(out, var, Cow::Borrowed(d.remote_addr.as_bytes()))
        }
        Var::RemotePort => push_num(out, var, d.remote_port),
        Var::ServerAddr => push(out, var, Cow::Borrowed(d.server_addr.as_bytes())),
        Var::ServerPort => push_num(out, var, d.server_port),
        Var::ServerName => {
            // The Host header without its port, as ModSecurity does.
            let host = d.request_headers.get(b"host").unwrap_or_default();
            let name = if host.starts_with(b"[") {
                host.iter()
                    .position(|&b| b == b']')
                    .and_then(|i| host.get(..=i))
                    .unwrap_or(host)
            } else {
                host.split(|&b| b == b':').next().unwrap_or(host)
            };
            push(out, var, Cow::Borrowed(name));
        }
        Var::UniqueId => push(out, var, Cow::Borrowed(d.unique_id.as_bytes())),
        Var::AuthType | Var::RemoteUser => {
            if let Some(auth) = d.request_headers.get(b"authorization") {
                let scheme = auth.split(|&b| b == b' ').next().unwrap_or_default();
                if var == Var::AuthType {
                    push(out, var, Cow::Borrowed(scheme));
                }
            }
        }
        _ => return false,
    }
    true
}
