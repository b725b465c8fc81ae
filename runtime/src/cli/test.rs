//! `hookrt test`: run a policy's cases, or dry-run it over real history.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use hookrt::Sandbox;
use hookrt::policy::{ConfigFile, Origin, PolicyConfig, Settings};
use hookrt::sandbox::PolicyModule;
use hookrt::testing::{self, CaseFile};

use super::test_report::{CaseLine, Format, Summary};

/// Test a policy against case files, or dry-run it over a repository's
/// history. Exits 0 when every case passed, 1 when one failed, 2 on a usage
/// or load error.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Case files, or directories holding them (in tests/ or directly)
    /// [default: the current directory].
    paths: Vec<PathBuf>,
    /// The policy component to test [default: `policy` in the case file].
    #[arg(long, value_name = "FILE.wasm")]
    policy: Option<PathBuf>,
    /// Only run cases whose name matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    filter: Option<regex::Regex>,
    /// How to print results.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also write a JUnit XML report here, for CI systems.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Dry run: the repository to take history from.
    #[arg(long, value_name = "PATH", requires = "range", conflicts_with = "paths")]
    repo: Option<PathBuf>,
    /// Dry run: the commits to push, as OLD..NEW.
    #[arg(long, value_name = "OLD..NEW", requires = "repo")]
    range: Option<String>,
    /// Dry run: the ref pushed to [default: the repository's HEAD branch].
    #[arg(long = "ref", value_name = "REF", requires = "repo")]
    ref_name: Option<String>,
    /// Dry run: take the policy's settings and limits from its entry in
    /// this hookrt.toml (by the module's name).
    #[arg(long, value_name = "FILE", requires = "repo")]
    config: Option<PathBuf>,
    #[command(flatten)]
    cache: super::dirs::CacheDir,
}

/// Exit status for a usage or load error.
const USAGE: u8 = 2;

impl TestArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self.execute() {
            Ok(code) => Ok(code),
            Err(err) => {
                eprintln!("hookrt test: {err:#}");
                Ok(ExitCode::from(USAGE))
            }
        }
    }

    fn execute(&self) -> anyhow::Result<ExitCode> {
        let sandbox = Sandbox::new(self.cache.dir().as_deref())?;
        if let Some(warning) = sandbox.cache_warning() {
            eprintln!("hookrt test: warning: {warning}");
        }
        if let Some(repo) = &self.repo {
            return self.dry_run(&sandbox, repo);
        }
        let paths = if self.paths.is_empty() { vec![PathBuf::from(".")] } else { self.paths.clone() };
        let mut files = Vec::new();
        for path in &paths {
            let found = testing::case_files(path).with_context(|| format!("cannot read {}", path.display()))?;
            if found.is_empty() {
                bail!("no case files (*.toml) in {} or its tests/", path.display());
            }
            files.extend(found);
        }

        let mut modules: HashMap<PathBuf, PolicyModule> = HashMap::new();
        let mut summary = Summary::new(self.format);
        for file in &files {
            let cases = CaseFile::load(file)?;
            let policy = match (&self.policy, &cases.policy) {
                (Some(path), _) => path.clone(),
                (None, Some(path)) => file.parent().unwrap_or(Path::new(".")).join(path),
                (None, None) => {
                    bail!("{}: no policy to test: pass --policy FILE.wasm or set `policy` in the file", file.display())
                }
            };
            if !modules.contains_key(&policy) {
                let name = policy.file_stem().map_or("policy".into(), |s| s.to_string_lossy().into_owned());
                let module =
                    sandbox.load(&name, &policy).with_context(|| format!("cannot load {}", policy.display()))?;
                modules.insert(policy.clone(), module);
            }
            let module = &modules[&policy];
            let file_name =
                file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
            for case in cases.cases.iter().filter(|c| self.filter.as_ref().is_none_or(|f| f.is_match(&c.name))) {
                // `CaseFile::load` has checked every case's settings.
                let settings = Arc::new(cases.settings_for(case).map_err(anyhow::Error::msg)?);
                let outcome = testing::run_case(&sandbox, module, case, &settings)
                    .with_context(|| format!("{file_name}: case {:?} could not be set up", case.name))?;
                summary.add(CaseLine { file: file_name.clone(), outcome });
            }
        }
        summary.finish();
        if let Some(path) = &self.junit {
            std::fs::write(path, summary.junit()).with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(if summary.failed() > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
    }

    fn dry_run(&self, sandbox: &Sandbox, repo: &Path) -> anyhow::Result<ExitCode> {
        let Some(policy) = &self.policy else { bail!("a dry run needs --policy FILE.wasm") };
        let range = self.range.as_deref().unwrap_or_default();
        let Some((old, new)) = range.split_once("..") else { bail!("--range takes OLD..NEW, got {range:?}") };
        // A work tree's repository is in .git; a bare one is the path itself.
        let git_dir = if repo.join(".git").is_dir() { repo.join(".git") } else { repo.to_owned() };
        let ref_name = match &self.ref_name {
            Some(name) => name.clone(),
            None => head_branch(&git_dir)?,
        };
        let module = load(sandbox, policy)?;
        let name = module.name();
        let (limits, settings) = self.dry_run_config(name)?;
        let report = testing::dry_run(sandbox, &module, &git_dir, &ref_name, (old, new), limits, &Arc::new(settings))?;
        let text = report.render();
        if report.accepted() {
            outln!("hookrt: {name} would accept {range} pushed to {ref_name}");
            out!("{text}");
            Ok(ExitCode::SUCCESS)
        } else {
            outln!("hookrt: {name} would reject {range} pushed to {ref_name}:");
            out!("{text}");
            Ok(ExitCode::FAILURE)
        }
    }
}

impl TestArgs {
    /// The limits and settings of policy `name`'s entry in `--config`;
    /// defaults and none without it.
    fn dry_run_config(&self, name: &str) -> anyhow::Result<(hookrt::Limits, Settings)> {
        let Some(path) = &self.config else {
            return Ok((PolicyConfig::default().limits(), Settings::empty(Origin { file: PathBuf::new(), line: 0 })));
        };
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let file = ConfigFile::parse(path, &text)?;
        let Some(entry) = file.policies.get(name) else {
            bail!("{} has no [policy.{name}] entry", path.display());
        };
        let settings = Settings { values: entry.settings.clone(), origin: entry.origin.clone() };
        Ok((entry.config.limits(), settings))
    }
}

/// Loads the policy at `path`, named after its file.
fn load(sandbox: &Sandbox, path: &Path) -> anyhow::Result<PolicyModule> {
    let name = path.file_stem().map_or("policy".into(), |s| s.to_string_lossy().into_owned());
    sandbox.load(&name, path).with_context(|| format!("cannot load {}", path.display()))
}

fn head_branch(git_dir: &Path) -> anyhow::Result<String> {
    let head = std::fs::read_to_string(git_dir.join("HEAD")).context("cannot read HEAD")?;
    head.trim().strip_prefix("ref: ").map(str::to_owned).context("HEAD is detached: name the ref with --ref")
}
