//! End-to-end tests: real `git push`es into bare repositories with hookrt
//! installed, running policies built from this repository's sources.

mod support;

mod architecture;
mod audit;
mod bad_input;
mod big_push;
mod blobs;
mod cache;
mod client;
mod config;
mod contract;
mod files;
mod history;
mod hostile;
mod hosting;
mod languages;
mod limits;
mod load;
mod malformed;
mod observers;
mod push_rules_bitbucket_github;
mod push_rules_gitlab;
mod registry;
mod released;
mod server_hooks;
mod setup;
mod testing;
mod transports;
mod verdicts;
mod walks;
mod webhooks;
