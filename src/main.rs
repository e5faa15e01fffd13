//! The `scanstation` command: the daemon and its tools.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use scanstation::config::{self, ConfigError, DEFAULT_CONFIG_PATH};

#[derive(Parser)]
#[command(
    name = "scanstation",
    version,
    about = "Service-scanning station for homeless-services agencies: scan HMIS ID cards, check \
             enrollments, review and post service batches, forward them to the HMIS."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon: scanners, HTTP API and kiosk UI, upstream delivery.
    Serve {
        #[arg(long, default_value = DEFAULT_CONFIG_PATH)]
        config: PathBuf,
        /// Log debug lines too.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Try it out: synthetic data, a printed PIN, stdin lines as scans on lane `main`.
    Demo {
        /// Address for the UI and API.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// Import a HUD HMIS CSV export (a folder or a .zip).
    Import {
        #[arg(long, default_value = DEFAULT_CONFIG_PATH)]
        config: PathBuf,
        path: PathBuf,
    },
    /// Export posted services.
    Export {
        kind: ExportKind,
        #[arg(long, default_value = DEFAULT_CONFIG_PATH)]
        config: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// First service date (yyyy-mm-dd), inclusive.
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last service date (yyyy-mm-dd), inclusive.
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
    },
    /// Check a config file and report every problem.
    CheckConfig {
        #[arg(long, default_value = DEFAULT_CONFIG_PATH)]
        config: PathBuf,
    },
    /// List input devices and serial ports that look like barcode scanners.
    Scanners,
    /// Read a PIN on stdin and print the hash to put in the config's [[supervisor]] pin_hash.
    HashPin,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportKind {
    HudCsv,
    ClienttrackCsv,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    scanstation::init_tls();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("scanstation: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load(path: &Path) -> anyhow::Result<config::Settings> {
    config::load_settings(path).map_err(|e| match e {
        ConfigError::Invalid { problems } => anyhow::anyhow!(
            "{} has {} problem(s):\n{}",
            path.display(),
            problems.len(),
            problems
                .iter()
                .map(|p| format!("  {p}"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        other => anyhow::anyhow!(other),
    })
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { config, verbose } => {
            scanstation::logging::init(verbose);
            let settings = load(&config)?;
            runtime()?.block_on(scanstation::daemon::serve(settings))?;
        }
        Command::Demo { listen } => {
            scanstation::logging::init(false);
            runtime()?.block_on(scanstation::demo::run(&listen))?;
        }
        Command::Import { config, path } => {
            let settings = load(&config)?;
            let store = scanstation::store::Store::open(&settings.database)?;
            let app = scanstation::app::App::new(settings, store);
            // The running daemon sees the new data at once (same file); its open batches are
            // reloaded here so their verdicts match it.
            let summary = runtime()?.block_on(app.import_and_reload(path, None, "import"))?;
            print!("{}", summary.report);
            if summary.reloaded > 0 {
                println!("reloaded {} open batch(es)", summary.reloaded);
            }
            if let Some(e) = summary.reload_error {
                anyhow::bail!("the data was imported, but the open batches were not reloaded: {e}");
            }
        }
        Command::Export {
            kind,
            config,
            out,
            from,
            to,
        } => {
            let settings = load(&config)?;
            let store = scanstation::store::Store::open(&settings.database)?;
            let app = scanstation::app::App::new(settings, store);
            let kind = match kind {
                ExportKind::HudCsv => scanstation::export::ExportKind::HudCsv,
                ExportKind::ClienttrackCsv => scanstation::export::ExportKind::ClienttrackCsv,
            };
            let done = runtime()?.block_on(app.export(kind, out, from, to))?;
            for f in &done.files {
                println!("wrote {}", f.display());
            }
            println!("{} services", done.services);
        }
        Command::CheckConfig { config } => {
            let settings = load(&config)?;
            println!(
                "{}: ok (station {}, {} service(s), {} scanner(s), {} supervisor(s), upstream {})",
                config.display(),
                settings.station_id(),
                settings.policy.services.len(),
                settings.scanners.len(),
                settings.supervisors.len(),
                settings.upstream.kind.as_str()
            );
            for warning in settings.secret_warnings() {
                println!("warning: {warning}");
            }
            if let Some(line) = scanstation::web::tls::describe(&settings) {
                println!("{line}");
            }
        }
        Command::Scanners => scanstation::scanners::print_candidates()?,
        Command::HashPin => {
            let mut input = String::new();
            if atty_stdin() {
                eprint!("PIN: ");
                std::io::stdin().lock().read_line(&mut input)?;
            } else {
                std::io::stdin().read_to_string(&mut input)?;
            }
            let pin = input.trim();
            if pin.len() < 4 || !pin.chars().all(|c| c.is_ascii_digit()) {
                anyhow::bail!("a PIN is 4 or more digits");
            }
            let hash = scanstation::pin::hash_pin(pin)
                .map_err(|e| anyhow::anyhow!("cannot hash the PIN: {e}"))?;
            println!("{hash}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn atty_stdin() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal()
}
