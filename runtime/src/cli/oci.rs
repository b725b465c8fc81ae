//! `hookrt push`, `hookrt pull`, `hookrt verify`: policies as OCI
//! artifacts (docs/distribution.md).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use hookrt::Sandbox;
use hookrt::oci::registry::{self, Artifact, SigningKey};
use hookrt::oci::{OciRef, Trust};
use hookrt::policy::Scopes;

use super::dirs::RepoDirs;

/// Publish a policy component to an OCI registry (CNCF Wasm layout),
/// optionally signed, and print the reference pinned to its digest, to
/// write in hookrt.toml. The component is loaded first: only a module
/// hookrt can run is published.
#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// The component (`.wasm`).
    module: PathBuf,
    /// Where to: oci://REGISTRY/REPOSITORY:TAG.
    reference: String,
    /// Sign it with this private key (PEM: EC P-256 or Ed25519; cosign's
    /// encrypted keys take COSIGN_PASSWORD).
    #[arg(long, value_name = "KEY")]
    sign: Option<PathBuf>,
    /// The policy's name in the artifact [default: the file name without .wasm].
    #[arg(long)]
    name: Option<String>,
}

/// Fetch the OCI artifacts hookrt.toml pins into the policy directory's
/// store, checking digests and, where [trust] names keys, signatures; or,
/// given a reference, fetch that one and print it pinned, to write in
/// hookrt.toml. Pushes never reach a registry: they run what was pulled.
#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// One artifact to fetch: oci://REGISTRY/REPOSITORY:TAG[@sha256:…].
    reference: Option<String>,
    #[command(flatten)]
    dirs: RepoDirs,
}

/// Check an artifact's signature against [trust] (or the keys given), and
/// print the digest and the key that signed it.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// oci://REGISTRY/REPOSITORY:TAG[@sha256:…].
    reference: String,
    /// A public key to check against, instead of hookrt.toml's [trust] (repeatable).
    #[arg(long, value_name = "KEY")]
    key: Vec<PathBuf>,
    #[command(flatten)]
    dirs: RepoDirs,
}

/// Runs one registry operation to its end.
fn block_on<F: std::future::Future>(future: F) -> anyhow::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the network runtime")?;
    Ok(runtime.block_on(future))
}

fn parse(reference: &str) -> anyhow::Result<OciRef> {
    reference.parse().map_err(anyhow::Error::msg)
}

impl PushArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let reference = parse(&self.reference)?;
        if reference.digest.is_some() {
            anyhow::bail!("push to a tag ({}), not a digest: the digest is what the push makes", reference.bare());
        }
        let key = self.sign.as_deref().map(SigningKey::read).transpose()?;
        let name = self
            .name
            .or_else(|| self.module.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "policy".into());
        let sandbox = Sandbox::new(super::dirs::default_cache_dir().as_deref())?;
        let module = sandbox
            .load(&name, &self.module)
            .with_context(|| format!("{} cannot be published", self.module.display()))?;
        let wasm = std::fs::read(&self.module).with_context(|| format!("cannot read {}", self.module.display()))?;
        let (imports, exports) = module.interface();
        let artifact = Artifact {
            wasm,
            title: name,
            contract: module.contract(),
            world: module.world().to_owned(),
            imports,
            exports,
            created: created(),
        };
        let pinned = block_on(registry::push(&artifact, &reference, key.as_ref()))??;
        outln!("pushed {pinned}");
        if let Some(key) = &key {
            outln!("signed with {}", key.path().display());
        }
        outln!("module = \"{pinned}\"");
        Ok(ExitCode::SUCCESS)
    }
}

/// The artifact's creation time: `SOURCE_DATE_EPOCH` if set, so that the
/// same component pushes to the same digest, else now.
fn created() -> String {
    let epoch = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|s| s.parse::<i64>().ok());
    epoch.and_then(|s| jiff::Timestamp::from_second(s).ok()).unwrap_or_else(jiff::Timestamp::now).to_string()
}

impl PullArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let scopes = self.dirs.scopes(&self.dirs.git_dir()?);
        if let Some(reference) = &self.reference {
            let reference = parse(reference)?;
            let (store, trust) = scopes.store()?;
            let record = block_on(registry::pull(&reference, &trust, &store))??;
            outln!("pulled {}{}", record.reference, signed(&record.signer));
            outln!("module = \"{}\"", record.reference);
            return Ok(ExitCode::SUCCESS);
        }
        let failed = pull_pinned(&scopes, true)?;
        Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
    }
}

/// Fetches what the scopes' files pin and the store lacks, reporting each
/// (and, if `all`, what is there already); the number that failed.
pub(super) fn pull_pinned(scopes: &Scopes, all: bool) -> anyhow::Result<usize> {
    let pins = scopes.pins()?;
    let mut failed = 0;
    for pin in &pins {
        let hex = pin.reference.digest_hex().unwrap_or_default();
        if pin.store.has(hex) {
            // What is there is checked against what was pulled, so that a
            // damaged copy is replaced rather than kept.
            match hookrt::oci::verify(&pin.store.module(hex)) {
                Ok(_) => {
                    if all {
                        outln!("ok     {}: {} (pulled already)", pin.policy, pin.reference);
                    }
                    continue;
                }
                Err(err) => outln!("warn   {}: {err}; pulling it again", pin.policy),
            }
        }
        match block_on(registry::pull(&pin.reference, &pin.trust, &pin.store))? {
            Ok(record) => outln!("pulled {}: {}{}", pin.policy, record.reference, signed(&record.signer)),
            Err(err) => {
                failed += 1;
                outln!("error  {}: {err}", pin.policy);
            }
        }
    }
    if pins.is_empty() && all {
        outln!("nothing to pull: no policy in hookrt.toml names an oci:// module");
    }
    Ok(failed)
}

pub(super) fn signed(signer: &Option<String>) -> String {
    match signer {
        Some(key) => format!(", signed by {key}"),
        None => ", no signature asked for ([trust] names no keys)".into(),
    }
}

impl VerifyArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let reference = parse(&self.reference)?;
        let trust = if self.key.is_empty() {
            self.dirs.scopes(&self.dirs.git_dir()?).store()?.1
        } else {
            Trust { keys: self.key }
        };
        if trust.keys.is_empty() {
            anyhow::bail!("no keys to check against: name them with --key, or in hookrt.toml's [trust] keys");
        }
        let verified = block_on(async {
            let pinned = match reference.digest {
                Some(_) => reference.clone(),
                None => registry::resolve(&reference).await?,
            };
            let signer = registry::verify(&pinned, &trust)
                .await
                .map_err(|source| registry::PullError::Untrusted { reference: pinned.to_string(), source })?;
            Ok::<_, registry::PullError>((pinned, signer))
        })?;
        match verified {
            Ok((pinned, signer)) => {
                outln!("verified {pinned}{}", signed(&signer));
                Ok(ExitCode::SUCCESS)
            }
            Err(err) => {
                outln!("error  {err}");
                Ok(ExitCode::FAILURE)
            }
        }
    }
}
