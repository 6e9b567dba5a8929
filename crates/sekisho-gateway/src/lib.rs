//! sekisho-gateway
