//! sekisho-demo
