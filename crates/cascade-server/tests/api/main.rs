//! Black-box tests: each spawns the real server on a random port with a fresh store and
//! talks HTTP to it as a client would. SQLite by default; PostgreSQL (one schema per test)
//! when `CASCADE_TEST_DATABASE_URL` is set.

mod helpers;

mod accounts;
mod admin;
mod announcements;
mod away;
mod browser;
mod browser_client;
mod cascade;
mod cli;
mod clients;
mod conversations;
mod cors;
mod crash;
mod errors;
mod filters;
mod fuzz;
mod grouped;
mod hostile;
mod inbox;
mod instance;
mod layers;
mod lists;
mod media;
mod metrics;
mod notifications;
mod oauth;
mod overload;
mod pages;
mod policy;
mod polls;
mod profiles;
mod push;
mod quotas;
mod ranked;
mod ratelimits;
mod records;
mod scheduled;
mod schemas;
mod scopes;
mod search;
mod spam;
mod statuses;
mod streaming;
mod suggestions;
mod suspend;
mod tags;
mod timelines;
mod tls;
mod tokens;
mod trends;
mod views;
mod visibility;
mod watch;
