//! Pulling, pushing and verifying policy artifacts: the part of
//! [`super`] that reaches a registry (the `oci` feature). The functions are
//! async, for oci-client; `hookrt pull`/`push`/`verify` run them on a
//! current-thread runtime, and an embedding server can on its own.
//!
//! An artifact is the CNCF Wasm layout: a manifest with media type
//! `application/vnd.oci.image.manifest.v1+json`, a config of type
//! `application/vnd.wasm.config.v0+json` and exactly one
//! `application/wasm` layer, the component. Its annotations say the
//! policy's name, the contract and world it implements. Signatures are
//! cosign's (a `sha256-<digest>.sig` tag beside it), made and checked with
//! keys through the sigstore crate, so `cosign sign --key` and
//! `cosign verify --key` work on them too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::manifest::{OciImageManifest, OciManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use sha2::{Digest, Sha256};
use sigstore::cosign::verification_constraint::{PublicKeyVerifier, VerificationConstraint};
use sigstore::cosign::{CosignCapabilities, SignatureLayer, constraint::Constraint, constraint::PrivateKeySigner};
use sigstore::crypto::SigningScheme;
use sigstore::crypto::signing_key::SigStoreKeyPair;
use sigstore::registry::{Auth, OciReference};

use super::{OciRef, Record, Store, StoreError, Trust};

pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";
/// The policy's name (OCI's standard annotation).
pub const TITLE: &str = "org.opencontainers.image.title";
pub const CREATED: &str = "org.opencontainers.image.created";
/// The contract the component implements (`hookrt:policy@0.1.0`).
pub const CONTRACT: &str = "dev.hookrt.contract";
/// Its world (`validated-policy`, `observer`, …).
pub const WORLD: &str = "dev.hookrt.world";
/// The most a component may be: what the sandbox reads at most.
const MAX_LAYER_BYTES: i64 = 256 << 20;

/// What to publish: the component and what the manifest says of it.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub wasm: Vec<u8>,
    /// The policy's name.
    pub title: String,
    /// `hookrt:policy@0.1.0`, from the component's imports.
    pub contract: String,
    pub world: String,
    /// The component's imports and exports, for the Wasm config.
    pub imports: Vec<String>,
    pub exports: Vec<String>,
    /// RFC 3339; `SOURCE_DATE_EPOCH` gives reproducible digests.
    pub created: String,
}

/// A private key to sign with: PKCS#8 PEM (`openssl genpkey`) or cosign's
/// encrypted key (`cosign generate-key-pair`, password in COSIGN_PASSWORD).
pub struct SigningKey {
    path: PathBuf,
    pair: SigStoreKeyPair,
    scheme: SigningScheme,
}

/// The error returned by [`pull`].
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("{reference}: {message}")]
    Registry { reference: String, message: String },
    #[error("{reference} is not a hookrt policy artifact: {message}")]
    NotPolicy { reference: String, message: String },
    #[error("{reference}: refused: {source}")]
    Untrusted {
        reference: String,
        #[source]
        source: VerifyError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The error returned by [`push`].
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("{reference}: {message}")]
    Registry { reference: String, message: String },
    #[error("{reference} is pushed as {digest}, but signing it failed: {message}")]
    Sign { reference: String, digest: String, message: String },
}

/// The error returned when an artifact's signatures do not satisfy
/// `[trust]`.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(
        "it is not signed; [trust] asks for a signature by {keys} (sign it with `hookrt push --sign KEY` or `cosign sign --key KEY`)"
    )]
    Unsigned { keys: String },
    #[error("it is signed ({count} signature(s)), but by none of the keys [trust] names ({keys})")]
    WrongSigner { count: usize, keys: String },
    #[error("cannot use the key {path}: {message}")]
    BadKey { path: PathBuf, message: String },
    #[error("cannot read its signatures: {0}")]
    Registry(String),
}

/// The client for `reference`'s registry: plain HTTP on loopback only.
fn client_config(reference: &OciRef) -> ClientConfig {
    let protocol = if reference.is_loopback() { ClientProtocol::Http } else { ClientProtocol::Https };
    ClientConfig { protocol, ..Default::default() }
}

fn sigstore_client(reference: &OciRef) -> Result<sigstore::cosign::Client, String> {
    let protocol = if reference.is_loopback() {
        sigstore::registry::ClientProtocol::Http
    } else {
        sigstore::registry::ClientProtocol::Https
    };
    let config = sigstore::registry::ClientConfig { protocol, ..Default::default() };
    sigstore::cosign::ClientBuilder::default().with_oci_client_config(config).build().map_err(|e| e.to_string())
}

/// The credentials `docker login` (or podman's) stored for the registry;
/// anonymous when there are none.
fn auth(reference: &OciRef) -> RegistryAuth {
    use docker_credential::DockerCredential;
    match docker_credential::get_credential(&reference.registry) {
        Ok(DockerCredential::UsernamePassword(user, password)) => RegistryAuth::Basic(user, password),
        Ok(DockerCredential::IdentityToken(token)) => RegistryAuth::Bearer(token),
        Err(_) => RegistryAuth::Anonymous,
    }
}

fn oci_reference(reference: &OciRef) -> Result<Reference, String> {
    reference.bare().parse().map_err(|e: oci_client::ParseError| e.to_string())
}

/// What a registry error means, in one line.
fn explain(err: impl std::fmt::Display) -> String {
    let text = err.to_string();
    if text.contains("error sending request") || text.contains("Connection refused") || text.contains("connect") {
        format!("the registry cannot be reached ({text})")
    } else {
        text
    }
}

/// Fetches the artifact `reference` names (by digest if pinned, else by
/// tag), checks its layout, digests and, if `trust` names keys, its
/// signature, and stores it in `store`. Returns the record, whose
/// `reference` is pinned to the digest.
pub async fn pull(reference: &OciRef, trust: &Trust, store: &Store) -> Result<Record, PullError> {
    let registry_error = |message: String| PullError::Registry { reference: reference.to_string(), message };
    let image = oci_reference(reference).map_err(registry_error)?;
    let client = Client::new(client_config(reference));
    let auth = auth(reference);
    // oci-client checks the manifest against the digest it was asked for.
    let (manifest, digest) = client.pull_image_manifest(&image, &auth).await.map_err(|e| registry_error(explain(e)))?;
    let pinned = reference.pinned(&digest);
    let not_policy = |message: String| PullError::NotPolicy { reference: pinned.to_string(), message };
    if manifest.config.media_type != CONFIG_MEDIA_TYPE {
        return Err(not_policy(format!(
            "its config is {}, not {CONFIG_MEDIA_TYPE} (push it with `hookrt push`, or `wkg oci push`)",
            manifest.config.media_type
        )));
    }
    let [layer] = manifest.layers.as_slice() else {
        return Err(not_policy(format!(
            "it has {} layers; a policy artifact has one, the component",
            manifest.layers.len()
        )));
    };
    if layer.media_type != LAYER_MEDIA_TYPE || layer.size > MAX_LAYER_BYTES {
        return Err(not_policy(format!(
            "its layer is {} of {} bytes; a policy is one {LAYER_MEDIA_TYPE} layer of at most {MAX_LAYER_BYTES}",
            layer.media_type, layer.size
        )));
    }
    let signer = verify(&pinned, trust)
        .await
        .map_err(|source| PullError::Untrusted { reference: pinned.to_string(), source })?;
    let mut wasm = Vec::new();
    // oci-client checks the bytes against the layer's digest as they come.
    client.pull_blob(&oci_reference(&pinned).map_err(registry_error)?, layer, &mut wasm).await.map_err(|e| {
        let message = explain(e);
        if message.contains("igest") {
            not_policy(format!(
                "its component does not match its digest {} ({message}); it was changed in the registry",
                layer.digest
            ))
        } else {
            registry_error(message)
        }
    })?;
    let record = Record {
        reference: pinned.to_string(),
        digest: digest.clone(),
        layer: layer.digest.clone(),
        signer,
        annotations: manifest.annotations.clone().unwrap_or_default(),
        pulled: jiff::Timestamp::now().to_string(),
    };
    let hex = digest.strip_prefix("sha256:").unwrap_or(&digest);
    store.put(hex, &wasm, &record)?;
    Ok(record)
}

/// The digest a tag names now: `reference` pinned to it.
pub async fn resolve(reference: &OciRef) -> Result<OciRef, PullError> {
    let registry_error = |message: String| PullError::Registry { reference: reference.to_string(), message };
    let image = oci_reference(reference).map_err(registry_error)?;
    let client = Client::new(client_config(reference));
    let digest =
        client.fetch_manifest_digest(&image, &auth(reference)).await.map_err(|e| registry_error(explain(e)))?;
    Ok(reference.pinned(&digest))
}

/// Checks the cosign signatures of the pinned artifact `reference` against
/// `trust`: the key that signed it, or `None` when `trust` names no keys.
pub async fn verify(reference: &OciRef, trust: &Trust) -> Result<Option<String>, VerifyError> {
    if trust.keys.is_empty() {
        return Ok(None);
    }
    let mut verifiers = Vec::new();
    for path in &trust.keys {
        let bad = |message: String| VerifyError::BadKey { path: path.clone(), message };
        let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        verifiers.push((path, PublicKeyVerifier::try_from(&pem).map_err(|e| bad(e.to_string()))?));
    }
    let keys = trust.keys.iter().map(|k| k.display().to_string()).collect::<Vec<_>>().join(", ");
    let mut client = sigstore_client(reference).map_err(VerifyError::Registry)?;
    let image: OciReference =
        reference.bare().parse().map_err(|e: sigstore::errors::SigstoreError| VerifyError::Registry(e.to_string()))?;
    let auth = Auth::from(&auth(reference));
    let mut layers =
        client.trusted_signature_layers(&auth, &image).await.map_err(|e| VerifyError::Registry(explain(e)))?;
    // sigstore finds the signatures through the digest the registry reports
    // for the reference; a signature counts only if what it signs is the
    // digest pinned here, which pull checked the manifest's bytes against.
    let pinned = reference.digest.as_deref().unwrap_or_default();
    layers.retain(|layer| layer.simple_signing.critical.image.docker_manifest_digest == pinned);
    if layers.is_empty() {
        return Err(VerifyError::Unsigned { keys });
    }
    for (path, verifier) in &verifiers {
        if layers.iter().any(|layer| verifier.verify(layer).unwrap_or(false)) {
            return Ok(Some(path.display().to_string()));
        }
    }
    Err(VerifyError::WrongSigner { count: layers.len(), keys })
}

impl SigningKey {
    /// Reads a private key. Cosign's encrypted keys take their password
    /// from COSIGN_PASSWORD, as cosign does.
    pub fn read(path: &Path) -> Result<Self, VerifyError> {
        let bad = |message: String| VerifyError::BadKey { path: path.to_owned(), message };
        let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let encrypted = String::from_utf8_lossy(&pem).contains("ENCRYPTED");
        let pair = if encrypted {
            let password = std::env::var("COSIGN_PASSWORD").unwrap_or_default();
            SigStoreKeyPair::from_encrypted_pem(&pem, password.as_bytes())
        } else {
            SigStoreKeyPair::from_pem(&pem)
        }
        .map_err(|e| bad(format!("{e} (an EC P-256 or Ed25519 private key in PEM: `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`, or `cosign generate-key-pair`)")))?;
        let scheme = match pair {
            SigStoreKeyPair::ECDSA(_) => SigningScheme::ECDSA_P256_SHA256_ASN1,
            SigStoreKeyPair::ED25519(_) => SigningScheme::ED25519,
            SigStoreKeyPair::RSA(_) => {
                return Err(bad("RSA keys are not supported; use an EC P-256 or Ed25519 key".into()));
            }
        };
        // Made once here, so that a key that cannot sign is named before
        // anything is pushed.
        pair.to_sigstore_signer(&scheme).map_err(|e| bad(e.to_string()))?;
        Ok(SigningKey { path: path.to_owned(), pair, scheme })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The CNCF Wasm config of an artifact.
fn wasm_config(artifact: &Artifact, layer_digest: &str) -> Vec<u8> {
    let config = serde_json::json!({
        "created": artifact.created,
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": [layer_digest],
        "component": {
            "exports": artifact.exports,
            "imports": artifact.imports,
            "target": target(&artifact.contract, &artifact.world),
        },
    });
    serde_json::to_vec(&config).expect("json serializes")
}

/// `hookrt:policy/validated-policy@0.1.0` from `hookrt:policy@0.1.0` and
/// the world's name.
fn target(contract: &str, world: &str) -> String {
    match contract.split_once('@') {
        Some((package, version)) => format!("{package}/{world}@{version}"),
        None => format!("{contract}/{world}"),
    }
}

/// Publishes `artifact` at `reference` (a tag), signed with `key` if
/// given, and returns the reference pinned to the manifest's digest. The
/// digest is of the exact bytes pushed: what is signed and printed is what
/// was uploaded, whatever else is pushed to the tag meanwhile.
pub async fn push(artifact: &Artifact, reference: &OciRef, key: Option<&SigningKey>) -> Result<OciRef, PushError> {
    let registry_error = |message: String| PushError::Registry { reference: reference.to_string(), message };
    let image = oci_reference(reference).map_err(registry_error)?;
    let client = Client::new(client_config(reference));
    let auth = auth(reference);
    let layer = ImageLayer::new(artifact.wasm.clone(), LAYER_MEDIA_TYPE.to_owned(), None);
    let layer_digest = layer.sha256_digest();
    let config = Config::new(wasm_config(artifact, &layer_digest), CONFIG_MEDIA_TYPE.to_owned(), None);
    let annotations = BTreeMap::from([
        (TITLE.to_owned(), artifact.title.clone()),
        (CREATED.to_owned(), artifact.created.clone()),
        (CONTRACT.to_owned(), artifact.contract.clone()),
        (WORLD.to_owned(), artifact.world.clone()),
    ]);
    let mut manifest = OciImageManifest::build(std::slice::from_ref(&layer), &config, Some(annotations));
    manifest.media_type = Some(MANIFEST_MEDIA_TYPE.to_owned());
    let body = serde_json::to_vec(&OciManifest::Image(manifest.clone())).expect("json serializes");
    let digest = format!("sha256:{:x}", Sha256::digest(&body));
    client.store_auth_if_needed(image.resolve_registry(), &auth).await;
    let failed = |e: oci_client::errors::OciDistributionError| registry_error(explain(e));
    client.push_blob(&image, layer.data.clone(), &layer_digest).await.map_err(failed)?;
    client.push_blob(&image, config.data.clone(), &manifest.config.digest).await.map_err(failed)?;
    let content_type = MANIFEST_MEDIA_TYPE.parse().expect("a valid header value");
    client.push_manifest_raw(&image, body, content_type).await.map_err(failed)?;
    let pinned = reference.pinned(&digest);
    if let Some(key) = key {
        sign(&pinned, &digest, key, &auth).await.map_err(|message| PushError::Sign {
            reference: reference.to_string(),
            digest: digest.clone(),
            message,
        })?;
    }
    Ok(pinned)
}

/// Pushes a cosign signature of `digest` by `key`.
async fn sign(pinned: &OciRef, digest: &str, key: &SigningKey, auth: &RegistryAuth) -> Result<(), String> {
    let mut client = sigstore_client(pinned)?;
    let image: OciReference = pinned.bare().parse().map_err(|e: sigstore::errors::SigstoreError| e.to_string())?;
    let auth = Auth::from(auth);
    let (signatures, _) = client.triangulate(&image, &auth).await.map_err(explain)?;
    let mut layer = SignatureLayer::new_unsigned(&image, digest).map_err(|e| e.to_string())?;
    let signer = key.pair.to_sigstore_signer(&key.scheme).map_err(|e| e.to_string())?;
    let signer = PrivateKeySigner::new_with_signer(signer);
    signer.add_constraint(&mut layer).map_err(|e| e.to_string())?;
    client.push_signature(None, &auth, &signatures, vec![layer]).await.map_err(explain)?;
    Ok(())
}
