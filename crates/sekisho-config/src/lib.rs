//! sekisho-config
