//! `relais`: the one binary. Serves the app, migrates the database, administers users and
//! tenants, and runs the demo.

mod cli;
mod demo;
mod serve;

use std::io::IsTerminal;
use std::time::Instant;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    // Logs go to standard error (colour only on a terminal); standard output carries what
    // commands print for the user, such as the demo logins.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RELAIS_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let cli = cli::Cli::parse();
    cli.run(started).await
}
