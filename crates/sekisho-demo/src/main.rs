//! `sekisho-demo --listen 127.0.0.1:PORT [--threads N]`: the demo API as its own process,
//! the common backend of `bench/proxy.sh`.

use std::net::SocketAddr;
use std::process::ExitCode;

const USAGE: &str = "usage: sekisho-demo [--listen ADDR] [--threads N]
  --listen ADDR   address to serve on (default 127.0.0.1:8081)
  --threads N     tokio worker threads (default: number of CPUs)";

struct Args {
    listen: SocketAddr,
    threads: Option<usize>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut out = Args {
        listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
        threads: None,
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("`{name}` needs a value"));
        match arg.as_str() {
            "--listen" => {
                let v = value("--listen")?;
                out.listen = v.parse().map_err(|_| format!("invalid address `{v}`"))?;
            }
            "--threads" => {
                let v = value("--threads")?;
                let n = v.parse().ok().filter(|n| *n > 0);
                out.threads = Some(n.ok_or(format!("invalid thread count `{v}`"))?);
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Some(out))
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        rt.worker_threads(n);
    }
    let rt = match rt.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async {
        match sekisho_demo::spawn(args.listen).await {
            Ok((addr, task)) => {
                println!("sekisho-demo listening on http://{addr}");
                let _ = task.await;
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot listen on `{}`: {e}", args.listen);
                ExitCode::FAILURE
            }
        }
    })
}
