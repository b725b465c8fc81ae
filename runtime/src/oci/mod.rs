//! Policies as OCI artifacts (docs/distribution.md): one component per
//! artifact in the CNCF Wasm layout (wkg, Spin and wash use it), pinned by
//! digest in `hookrt.toml` as `oci://registry/repository:tag@sha256:…`.
//!
//! The parts split along the network: [`OciRef`] and [`Store`] are what a
//! push needs (it runs what was pulled and never reaches a registry), and
//! are always built; [`registry`] pulls, pushes and checks signatures, and
//! comes with the `oci` feature.

use std::fmt;
use std::str::FromStr;

mod store;

#[cfg(feature = "oci")]
pub mod registry;

pub use store::{Record, STORE_DIR, Store, StoreError, verify};

/// The keys an artifact must be signed with (`[trust]` in hookrt.toml).
/// No keys: signatures are not asked for (the digest still pins the bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust {
    /// Public keys (PEM), as configured; one signature by any of them is
    /// enough.
    pub keys: Vec<std::path::PathBuf>,
}

/// The scheme that marks a module as an OCI artifact in `hookrt.toml`.
pub const SCHEME: &str = "oci://";

/// `oci://registry/repository[:tag][@sha256:…]`: where a policy is
/// published. A module in `hookrt.toml` must carry the digest: the tag says
/// what a human meant, the digest what runs (a tag can be moved; the
/// digest cannot).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OciRef {
    /// Host, and port if any (`ghcr.io`, `127.0.0.1:5000`).
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:` and 64 hex digits: the manifest's digest.
    pub digest: Option<String>,
}

impl OciRef {
    /// The same artifact pinned to `digest` (its tag kept, for people).
    pub fn pinned(&self, digest: &str) -> OciRef {
        OciRef { digest: Some(digest.to_owned()), ..self.clone() }
    }

    /// The 64 hex digits of the digest, if pinned.
    pub fn digest_hex(&self) -> Option<&str> {
        self.digest.as_deref().and_then(|d| d.strip_prefix("sha256:"))
    }

    /// Whether the registry is on this machine's loopback, where hookrt
    /// speaks plain HTTP (as docker does for such registries); anywhere
    /// else it is HTTPS only.
    pub fn is_loopback(&self) -> bool {
        let host = match self.registry.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
            _ => &self.registry,
        };
        host == "localhost" || host == "[::1]" || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// The reference without the scheme, as registries and docker write it.
    pub fn bare(&self) -> String {
        let mut s = format!("{}/{}", self.registry, self.repository);
        if let Some(tag) = &self.tag {
            s.push(':');
            s.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            s.push('@');
            s.push_str(digest);
        }
        s
    }
}

impl fmt::Display for OciRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}", self.bare())
    }
}

impl FromStr for OciRef {
    type Err = String;

    /// Parses `oci://registry/repository[:tag][@sha256:…]`. The registry
    /// is always written out: there is no default registry to guess.
    fn from_str(text: &str) -> Result<Self, String> {
        let example = "write it as oci://REGISTRY/REPOSITORY:TAG, e.g. oci://ghcr.io/acme/no-wip:1.0";
        let rest =
            text.strip_prefix(SCHEME).ok_or_else(|| format!("`{text}` does not start with {SCHEME}; {example}"))?;
        let (name, digest) = match rest.split_once('@') {
            Some((name, digest)) => {
                let hex = digest.strip_prefix("sha256:").unwrap_or("");
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                    return Err(format!(
                        "`{text}`: the digest `{digest}` is not `sha256:` and 64 lowercase hex digits"
                    ));
                }
                (name, Some(digest.to_owned()))
            }
            None => (rest, None),
        };
        let Some((registry, path)) = name.split_once('/') else {
            return Err(format!("`{text}` names no registry; {example}"));
        };
        // A tag is after the last `:` of the last path component (a port's
        // `:` is in the registry, before the first `/`).
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repository, tag)) if !tag.contains('/') => (repository, Some(tag.to_owned())),
            _ => (path, None),
        };
        let repository_ok = !repository.is_empty()
            && repository.split('/').all(|part| {
                !part.is_empty()
                    && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            });
        if registry.is_empty() || !repository_ok {
            return Err(format!(
                "`{text}`: the repository `{repository}` must be lowercase letters, digits and `._-`, in `/`-separated parts; {example}"
            ));
        }
        if let Some(tag) = &tag {
            let tag_ok = tag.len() <= 128
                && tag.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
            if !tag_ok {
                return Err(format!("`{text}`: the tag `{tag}` must be letters, digits and `._-` (at most 128)"));
            }
        }
        Ok(OciRef { registry: registry.to_owned(), repository: repository.to_owned(), tag, digest })
    }
}

#[cfg(test)]
mod tests {
    use super::OciRef;

    #[test]
    fn references_parse_and_print_back() {
        let hex = "a".repeat(64);
        for text in [
            "oci://ghcr.io/acme/no-wip:1.0".to_owned(),
            "oci://127.0.0.1:5000/hookrt/no-wip".to_owned(),
            format!("oci://localhost:5000/a/b/c:v2@sha256:{hex}"),
            format!("oci://registry.example/p@sha256:{hex}"),
        ] {
            let parsed: OciRef = text.parse().expect("valid");
            assert_eq!(parsed.to_string(), text);
        }
        let port: OciRef = "oci://127.0.0.1:5000/hookrt/no-wip:1".parse().expect("valid");
        assert_eq!(
            (port.registry.as_str(), port.repository.as_str(), port.tag.as_deref()),
            ("127.0.0.1:5000", "hookrt/no-wip", Some("1"))
        );
        assert!(port.is_loopback());
        assert!(!"oci://ghcr.io/a/b".parse::<OciRef>().expect("valid").is_loopback());
    }

    #[test]
    fn bad_references_say_what_is_wrong() {
        for (text, says) in [
            ("ghcr.io/a/b:1", "does not start with oci://"),
            ("oci://no-wip", "names no registry"),
            ("oci://ghcr.io/Acme/b:1", "lowercase"),
            ("oci://ghcr.io/a/b:1@sha256:abc", "64 lowercase hex"),
            ("oci://ghcr.io/a/b:-x", "the tag"),
        ] {
            let err = text.parse::<OciRef>().expect_err(text);
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
