//! One reconcile of one binding: settle the finalizer, gather credentials and the CAK, read
//! the cloud, carry out the step `decide` chose, and report it in status and events.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::finalizer::{self, Event as FinalizerEvent};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, Resource, ResourceExt};
use tokio::sync::mpsc;

use super::backoff::{Backoff, jittered};
use super::decide::{Observed, Phase, Role, Step, decide, needs_cloud};
use super::external::{External, Observation, observation_of};
use super::peers::{active_on_circuit, circuit_siblings, conflict_owner};
use super::status::{CAK_SECRET_INVALID, CIPHER_SUITE_MISMATCH, Reason, Report, next_status};
use crate::cloud::{CloudError, ErrorKind, wire};
use crate::credentials::{Credentials, CredentialsError, DefaultChain};
use crate::resource::{
    CipherSuite, DeletionPolicy, FINALIZER, MacsecKeyBinding, MacsecKeyBindingSpec,
};
use crate::secret::SecretString;

/// Field manager of the operator's status writes.
const MANAGER: &str = "macsec-operator";
/// How soon to look again at something about to change by itself: a key in a state the
/// operator does not act on, or the owner of a key on its way out.
const UNSETTLED_RECHECK: Duration = Duration::from_secs(5);
/// Disassociations one deletion may make in one pass: `Delete` on an associated key takes
/// two; the third read confirms.
const MAX_CALLS_PER_DELETION: usize = 2;

/// What every reconcile shares.
pub struct Context {
    pub client: kube::Client,
    pub external: External,
    pub chain: DefaultChain,
    pub backoff: Backoff<ObjectRef<MacsecKeyBinding>>,
    /// Every binding the controller watches, for the conflict rule and circuit siblings.
    pub store: Store<MacsecKeyBinding>,
    pub recorder: Recorder,
    pub resync: Duration,
    /// Bindings to reconcile promptly (siblings of a circuit that just changed).
    pub prompt: mpsc::UnboundedSender<ObjectRef<MacsecKeyBinding>>,
}

/// Why a reconcile did not finish. The kind decides the retry delay; the reason goes to
/// status and events.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Cloud(#[from] CloudError),
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    #[error("CAK Secret {secret}: {problem}")]
    CakSecret { secret: String, problem: String },
    #[error("deletion not yet confirmed: {0}")]
    DeletionPending(String),
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error("the binding has no namespace")]
    NoNamespace,
    #[error("{0}")]
    Finalizer(#[source] Box<finalizer::Error<Error>>),
}

impl Error {
    /// The innermost error, through the finalizer's wrapping.
    pub fn root(&self) -> &Error {
        match self {
            Error::Finalizer(inner) => match inner.as_ref() {
                finalizer::Error::ApplyFailed(e) | finalizer::Error::CleanupFailed(e) => e.root(),
                _ => self,
            },
            _ => self,
        }
    }

    /// How to retry.
    pub fn kind(&self) -> ErrorKind {
        match self.root() {
            Error::Cloud(e) => e.kind(),
            Error::Credentials(e) => e.kind(),
            Error::CakSecret { .. } => ErrorKind::Permanent,
            Error::DeletionPending(_) => ErrorKind::KeyAbsent,
            Error::Kube(_) | Error::Finalizer(_) => ErrorKind::Transient,
            Error::NoNamespace => ErrorKind::Permanent,
        }
    }

    /// The message for the `Synced` condition and for events: like `Display`, without the
    /// RequestId, which differs between two failures of the same kind. The RequestId of a
    /// refused mutating call goes to `status.lastRequestId`; every one is in the log.
    pub fn summary(&self) -> String {
        match self.root() {
            Error::Cloud(CloudError::Api {
                action,
                code,
                message,
                ..
            }) => format!("{action}: {code}: {message}"),
            root => root.to_string(),
        }
    }

    /// The `RequestId` of a mutating call the cloud refused: `status.lastRequestId` names
    /// the most recent mutating call, failed ones included, for a support ticket.
    pub fn refused_mutation_request_id(&self) -> Option<&str> {
        match self.root() {
            Error::Cloud(error @ CloudError::Api { action, .. })
                if [wire::ASSOCIATE_MACSEC_KEY, wire::DISASSOCIATE_MACSEC_KEY].contains(action) =>
            {
                error.request_id()
            }
            _ => None,
        }
    }

    /// The condition reason: the Alibaba error code, or a local one.
    pub fn reason(&self) -> String {
        match self.root() {
            Error::Cloud(e) => e.code().to_owned(),
            Error::Credentials(e) => e.reason().to_owned(),
            Error::CakSecret { .. } => CAK_SECRET_INVALID.to_owned(),
            Error::DeletionPending(_) => "DeletionPending".to_owned(),
            Error::Kube(_) | Error::Finalizer(_) => "KubernetesApiError".to_owned(),
            Error::NoNamespace => "NoNamespace".to_owned(),
        }
    }
}

/// The controller's reconcile function.
pub async fn reconcile(binding: Arc<MacsecKeyBinding>, ctx: Arc<Context>) -> Result<Action, Error> {
    let namespace = binding.namespace().ok_or(Error::NoNamespace)?;
    let api: Api<MacsecKeyBinding> = Api::namespaced(ctx.client.clone(), &namespace);
    let key = ObjectRef::from(binding.as_ref());
    // The cache can lag behind a finalizer removal this operator just made: a deletion is
    // carried out only on a fresh read, so a stale copy never touches the cloud again.
    let binding = if binding.meta().deletion_timestamp.is_some() {
        match api.get_opt(&binding.name_any()).await? {
            Some(fresh) if fresh.uid() == binding.uid() => Arc::new(fresh),
            _ => return Ok(Action::await_change()),
        }
    } else {
        binding
    };
    let result = finalizer::finalizer(&api, FINALIZER, binding, |event| async {
        match event {
            FinalizerEvent::Apply(binding) => apply(&binding, &api, &ctx).await,
            FinalizerEvent::Cleanup(binding) => cleanup(&binding, &api, &ctx).await,
        }
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)));
    if result.is_ok() {
        ctx.backoff.reset(&key);
    }
    result
}

/// The controller's error policy: a growing delay per object, by the kind of failure.
pub fn error_policy(binding: Arc<MacsecKeyBinding>, error: &Error, ctx: Arc<Context>) -> Action {
    let delay = ctx
        .backoff
        .next_delay(&ObjectRef::from(binding.as_ref()), error.kind());
    tracing::warn!(binding = %ObjectRef::from(binding.as_ref()), reason = %error.reason(), %error, retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
}

async fn apply(
    binding: &MacsecKeyBinding,
    api: &Api<MacsecKeyBinding>,
    ctx: &Context,
) -> Result<Action, Error> {
    let spec = &binding.spec;
    if let Some(owner) = owner_if_lost(binding, ctx) {
        let reason = Reason::new(
            "Conflict",
            format!(
                "the older binding {} owns this key; this one makes no cloud call",
                owner.name
            ),
        );
        let report = Report {
            not_ready: Some(reason.clone()),
            sync_error: Some(reason),
            ..Report::default()
        };
        write_status(
            binding,
            api,
            ctx,
            &report,
            Some(("Conflict", EventType::Warning)),
        )
        .await?;
        let next = if owner.leaving {
            UNSETTLED_RECHECK
        } else {
            jittered(ctx.resync)
        };
        return Ok(Action::requeue(next));
    }
    // The last read of the cloud, kept for the status even when a later step fails.
    let mut seen: Option<Observation> = None;
    let outcome = async {
        let credentials = credentials_for(binding, ctx).await?;
        // A bad CAK Secret is reported before any cloud call.
        let cak = match &spec.cak_secret_ref {
            Some(_) => Some(read_cak(binding, ctx).await?),
            None => None,
        };
        let mut observation = ctx.external.observe(&credentials, spec).await?;
        seen = Some(observation.clone());
        let role = role_of(binding, ctx, observation.in_use.as_deref());
        let mut request_id = None;
        let step = decide(Phase::Apply, role.0, &observation.observed);
        if let (Step::Associate, Some(cak)) = (step, &cak) {
            let id = ctx.external.associate(&credentials, spec, cak).await?;
            publish(
                ctx,
                binding,
                EventType::Normal,
                "Associated",
                format!("AssociateMacSecKey succeeded (RequestId {id})"),
            )
            .await;
            made_progress(binding, ctx);
            request_id = Some(id);
            prompt_siblings(binding, ctx);
            observation = ctx.external.observe(&credentials, spec).await?;
        }
        Ok::<_, Error>((observation, request_id, step, role))
    }
    .await;

    match outcome {
        Ok((observation, request_id, step, (role, active))) => {
            let mut report = report_of(&observation, request_id, None);
            let mismatch = cipher_suite_mismatch(&observation.observed, spec.cipher_suite);
            let mismatched = mismatch.is_some();
            if let Some(mismatch) = mismatch {
                report.not_ready = Some(mismatch);
            }
            let in_use = observation.observed.key_status()
                == Some(crate::cloud::wire::key_status::ASSOCIATED);
            if let (Role::Standby, Some(active), false) = (role, &active, in_use) {
                report.not_ready.get_or_insert_with(|| {
                    Reason::new(
                        "Standby",
                        format!("{active} holds the key in use on this circuit; this key stays configured as a standby"),
                    )
                });
            }
            let event = (observation.observed == Observed::CircuitMissing)
                .then_some(("CircuitNotFound", EventType::Warning));
            write_status(binding, api, ctx, &report, event).await?;
            if mismatched {
                // This binding cannot hold the port: an older one may have to (see
                // `active_on_circuit`).
                prompt_siblings(binding, ctx);
            }
            let settled = step != Step::WaitForKey;
            Ok(Action::requeue(if settled {
                jittered(ctx.resync)
            } else {
                UNSETTLED_RECHECK
            }))
        }
        Err(error) => {
            let learnt = seen
                .as_ref()
                .map(|observation| report_of(observation, None, None))
                .unwrap_or_default();
            report_error(binding, api, ctx, &error, learnt).await?;
            if matches!(error.root(), Error::CakSecret { .. }) {
                // A binding without a usable CAK holds no key in use: an older one of the
                // circuit may have to take the port (see `active_on_circuit`).
                prompt_siblings(binding, ctx);
            }
            Err(error)
        }
    }
}

async fn cleanup(
    binding: &MacsecKeyBinding,
    api: &Api<MacsecKeyBinding>,
    ctx: &Context,
) -> Result<Action, Error> {
    let spec = &binding.spec;
    let phase = Phase::Delete(spec.deletion_policy);
    let lost = owner_if_lost(binding, ctx);
    if !needs_cloud(phase, lost.is_some()) {
        let why = match &lost {
            Some(owner) => {
                format!(
                    "released without a cloud call: the older binding {} owns this key",
                    owner.name
                )
            }
            None => "deletionPolicy Orphan: the key is left on the circuit as it is".to_owned(),
        };
        publish(ctx, binding, EventType::Normal, "Released", why).await;
        if lost.is_none() {
            // An owner is going: a younger binding of the same key owns it now.
            prompt_siblings(binding, ctx);
        }
        return Ok(Action::await_change());
    }

    match delete_key(binding, spec, ctx).await {
        Ok((observation, request_id)) => {
            let report = report_of(&observation, request_id.clone(), None);
            write_status(binding, api, ctx, &report, None).await?;
            let what = match (&observation.observed, spec.deletion_policy) {
                (Observed::CircuitMissing, _) => {
                    publish(
                        ctx,
                        binding,
                        EventType::Warning,
                        "CircuitNotFound",
                        "the circuit is gone: nothing left to remove".into(),
                    )
                    .await;
                    None
                }
                (_, DeletionPolicy::Delete) => Some("the key is deleted from the circuit"),
                _ => Some("the key is not associated on the circuit"),
            };
            if let Some(what) = what {
                let id = request_id
                    .map(|id| format!(" (RequestId {id})"))
                    .unwrap_or_default();
                publish(
                    ctx,
                    binding,
                    EventType::Normal,
                    "Released",
                    format!("{what}{id}; removing the finalizer"),
                )
                .await;
            }
            prompt_siblings(binding, ctx);
            Ok(Action::await_change())
        }
        Err((error, request_id)) => {
            let learnt = Report {
                request_id,
                ..Report::default()
            };
            report_error(binding, api, ctx, &error, learnt).await?;
            Err(error)
        }
    }
}

/// Carries out the deletion policy until the cloud confirms it. Returns the final
/// observation, or the error with the RequestId of any call already made.
async fn delete_key(
    binding: &MacsecKeyBinding,
    spec: &MacsecKeyBindingSpec,
    ctx: &Context,
) -> Result<(Observation, Option<String>), (Error, Option<String>)> {
    let phase = Phase::Delete(spec.deletion_policy);
    let credentials = credentials_for(binding, ctx).await.map_err(|e| (e, None))?;
    let mut request_id = None;
    let mut calls = 0;
    loop {
        let observation = ctx
            .external
            .observe(&credentials, spec)
            .await
            .map_err(|e| (e.into(), request_id.clone()))?;
        // The role only matters when applying.
        match decide(phase, Role::Active, &observation.observed) {
            Step::Release => return Ok((observation, request_id)),
            Step::Disassociate if calls < MAX_CALLS_PER_DELETION => {
                calls += 1;
                match ctx.external.disassociate(&credentials, spec).await {
                    Ok(id) => {
                        made_progress(binding, ctx);
                        request_id = Some(id);
                    }
                    // The key went between the read and the call: what deletion wanted;
                    // the next read confirms it.
                    Err(e) if e.kind() == ErrorKind::KeyAbsent => {}
                    // The circuit is gone: nothing is left on its port.
                    Err(e) if e.kind() == ErrorKind::CircuitNotFound => {
                        let gone = observation_of(None, &spec.ckn, spec.cipher_suite);
                        return Ok((gone, request_id));
                    }
                    Err(e) => return Err((e.into(), request_id)),
                }
                prompt_siblings(binding, ctx);
            }
            _ => {
                let status = observation
                    .observed
                    .key_status()
                    .unwrap_or("unknown")
                    .to_owned();
                return Err((
                    Error::DeletionPending(format!("the key is {status}; waiting for the cloud")),
                    request_id,
                ));
            }
        }
    }
}

/// A mutating call succeeded: whatever fails next starts its backoff afresh, so a busy
/// cloud slows a binding down without stalling work that is moving.
fn made_progress(binding: &MacsecKeyBinding, ctx: &Context) {
    ctx.backoff.reset(&ObjectRef::from(binding));
}

/// What this binding does with its key, and (for a standby) which binding holds the key in
/// use on the circuit; `in_use` is the CKN the cloud has in use there.
fn role_of(
    binding: &MacsecKeyBinding,
    ctx: &Context,
    in_use: Option<&str>,
) -> (Role, Option<String>) {
    if binding.spec.cak_secret_ref.is_none() {
        return (Role::Adopted, None);
    }
    let all = ctx.store.state();
    match active_on_circuit(binding, all.iter().map(|b| b.as_ref()), in_use) {
        Some(active) if active.uid() != binding.uid() => (
            Role::Standby,
            Some(format!(
                "{}/{}",
                active.namespace().unwrap_or_default(),
                active.name_any()
            )),
        ),
        _ => (Role::Active, None),
    }
}

/// The binding that owns this one's key, when this one lost the conflict.
struct Owner {
    /// `namespace/name`.
    name: String,
    /// The owner is on its way out: look again soon rather than at the next resync.
    leaving: bool,
}

fn owner_if_lost(binding: &MacsecKeyBinding, ctx: &Context) -> Option<Owner> {
    let all = ctx.store.state();
    conflict_owner(binding, all.iter().map(|b| b.as_ref())).map(|owner| Owner {
        name: format!(
            "{}/{}",
            owner.namespace().unwrap_or_default(),
            owner.name_any()
        ),
        leaving: owner.meta().deletion_timestamp.is_some(),
    })
}

/// After a mutating call, the cloud may have switched keys on the circuit: the other
/// bindings there must look again now rather than at their next resync.
fn prompt_siblings(binding: &MacsecKeyBinding, ctx: &Context) {
    let all = ctx.store.state();
    for sibling in circuit_siblings(binding, all.iter().map(|b| b.as_ref())) {
        let _ = ctx.prompt.send(sibling);
    }
}

async fn credentials_for(binding: &MacsecKeyBinding, ctx: &Context) -> Result<Credentials, Error> {
    let Some(reference) = &binding.spec.credentials_secret_ref else {
        return Ok(ctx.chain.credentials().await?);
    };
    let data = read_secret(binding, ctx, &reference.name)
        .await?
        .ok_or_else(|| {
            CredentialsError::Missing(format!(
                "Secret {} not found in the binding's namespace",
                reference.name
            ))
        })?;
    Ok(Credentials::from_secret_data(&reference.name, &data)?)
}

async fn read_cak(binding: &MacsecKeyBinding, ctx: &Context) -> Result<SecretString, Error> {
    let Some(reference) = &binding.spec.cak_secret_ref else {
        return Err(Error::CakSecret {
            secret: String::new(),
            problem: "no cakSecretRef".into(),
        });
    };
    let invalid = |problem: &str| Error::CakSecret {
        secret: reference.name.clone(),
        problem: problem.to_owned(),
    };
    let data = read_secret(binding, ctx, &reference.name)
        .await?
        .ok_or_else(|| invalid("not found in the binding's namespace"))?;
    let bytes = data
        .get(&reference.key)
        .ok_or_else(|| invalid(&format!("has no key {:?}", reference.key)))?;
    let cak = std::str::from_utf8(bytes)
        .map_err(|_| invalid("the CAK is not text"))?
        .trim();
    if !binding.spec.cipher_suite.accepts_key_material(cak) {
        return Err(invalid(&format!(
            "the CAK must be {} hex characters for {}",
            binding.spec.cipher_suite.key_hex_len(),
            binding.spec.cipher_suite
        )));
    }
    Ok(SecretString::new(cak))
}

/// A Secret in the binding's own namespace (never another), `None` when absent.
async fn read_secret(
    binding: &MacsecKeyBinding,
    ctx: &Context,
    name: &str,
) -> Result<Option<HashMap<String, Vec<u8>>>, Error> {
    let namespace = binding.namespace().ok_or(Error::NoNamespace)?;
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    let secret = secrets.get_opt(name).await?;
    Ok(secret.map(|s| {
        s.data
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect()
    }))
}

/// The key on the circuit runs another cipher suite than the binding says: whatever its
/// status, the binding does not describe the port, and a person has to decide which is
/// right (the CKN, and so the key, cannot be changed in place).
fn cipher_suite_mismatch(observed: &Observed, expected: CipherSuite) -> Option<Reason> {
    let Observed::Key {
        other_suite: Some(actual),
        ..
    } = observed
    else {
        return None;
    };
    Some(Reason::new(
        CIPHER_SUITE_MISMATCH,
        format!(
            "the key on the circuit uses {actual}, the binding says {}",
            expected.as_str()
        ),
    ))
}

fn report_of(
    observation: &Observation,
    request_id: Option<String>,
    sync_error: Option<Reason>,
) -> Report {
    let not_ready = (observation.observed == Observed::CircuitMissing).then(|| {
        Reason::new(
            "CircuitNotFound",
            "the circuit does not exist in this region",
        )
    });
    Report {
        key_status: observation.observed.key_status().map(str::to_owned),
        start_on: observation.start_on.clone(),
        request_id,
        not_ready,
        sync_error,
    }
}

/// Records a failed reconcile in status (`Synced=False` with the reason, plus what it learnt
/// before failing) and as a Warning event, which the recorder folds into a series when it
/// repeats.
async fn report_error(
    binding: &MacsecKeyBinding,
    api: &Api<MacsecKeyBinding>,
    ctx: &Context,
    error: &Error,
    learnt: Report,
) -> Result<(), Error> {
    let reason = error.reason();
    let report = Report {
        sync_error: Some(Reason::new(reason.clone(), error.summary())),
        request_id: error
            .refused_mutation_request_id()
            .map(str::to_owned)
            .or(learnt.request_id),
        ..learnt
    };
    write_status(binding, api, ctx, &report, None).await?;
    // Without the RequestId: the recorder folds repeats into one series that keeps the
    // first note, which would then name an old request. The current one is in
    // status.lastRequestId (mutating calls) and in the log line of every failure.
    publish(ctx, binding, EventType::Warning, &reason, error.summary()).await;
    Ok(())
}

/// Writes the status `report` leads to, only when it differs from the current one; then,
/// when `event` is given, publishes it (so a repeated state does not repeat its event).
async fn write_status(
    binding: &MacsecKeyBinding,
    api: &Api<MacsecKeyBinding>,
    ctx: &Context,
    report: &Report,
    event: Option<(&str, EventType)>,
) -> Result<(), Error> {
    let now = Time(jiff::Timestamp::now());
    let next = next_status(
        binding.status.as_ref(),
        binding.meta().generation,
        report,
        now,
    );
    if binding.status.as_ref() == Some(&next) {
        return Ok(());
    }
    let patch = serde_json::json!({ "status": next });
    api.patch_status(
        &binding.name_any(),
        &PatchParams {
            field_manager: Some(MANAGER.to_owned()),
            ..PatchParams::default()
        },
        &Patch::Merge(&patch),
    )
    .await?;
    if let Some((reason, kind)) = event {
        let message = super::status::condition(&next, super::status::READY)
            .map(|c| c.message.clone())
            .unwrap_or_default();
        publish(ctx, binding, kind, reason, message).await;
    }
    Ok(())
}

async fn publish(
    ctx: &Context,
    binding: &MacsecKeyBinding,
    type_: EventType,
    reason: &str,
    note: String,
) {
    let event = Event {
        type_,
        reason: reason
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .take(128)
            .collect(),
        note: Some(note.chars().take(1000).collect()),
        action: "Reconcile".to_owned(),
        secondary: None,
    };
    if let Err(error) = ctx.recorder.publish(&event, &binding.object_ref(&())).await {
        tracing::warn!(%error, "cannot publish an event");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(action: &'static str, request_id: &str) -> Error {
        Error::Cloud(CloudError::Api {
            action,
            http_status: 400,
            code: "IncorrectStatus.PhysicalConnection".to_owned(),
            message: "refused".to_owned(),
            request_id: request_id.to_owned(),
            retry_after: None,
        })
    }

    #[test]
    fn a_key_with_another_cipher_suite_is_a_mismatch() {
        let observed = |other_suite: Option<&str>| Observed::Key {
            status: "Associated".to_owned(),
            other_suite: other_suite.map(str::to_owned),
        };
        let mismatch =
            cipher_suite_mismatch(&observed(Some("GCM-AES-128")), CipherSuite::GcmAesXpn128)
                .expect("a mismatch");
        assert_eq!(mismatch.reason, "CipherSuiteMismatch");
        assert!(
            mismatch.message.contains("GCM-AES-128"),
            "{}",
            mismatch.message
        );
        assert!(
            mismatch.message.contains("GCM-AES-XPN-128"),
            "{}",
            mismatch.message
        );
        // The same suite (compared whatever the case, by `observation_of`), no key, or no
        // circuit: nothing to report.
        assert!(cipher_suite_mismatch(&observed(None), CipherSuite::GcmAes128).is_none());
        assert!(cipher_suite_mismatch(&Observed::KeyAbsent, CipherSuite::GcmAes128).is_none());
    }

    #[test]
    fn a_refused_association_or_disassociation_gives_its_request_id_to_the_status() {
        let through_finalizer = Error::Finalizer(Box::new(finalizer::Error::CleanupFailed(
            refused(wire::DISASSOCIATE_MACSEC_KEY, "REQ-2"),
        )));
        assert_eq!(
            through_finalizer.refused_mutation_request_id(),
            Some("REQ-2")
        );
        assert_eq!(
            refused(wire::ASSOCIATE_MACSEC_KEY, "REQ-1").refused_mutation_request_id(),
            Some("REQ-1")
        );
        // A read is no mutating call, and an answer without a RequestId names none.
        assert_eq!(
            refused(wire::DESCRIBE_PHYSICAL_CONNECTIONS, "REQ-3").refused_mutation_request_id(),
            None
        );
        assert_eq!(
            refused(wire::ASSOCIATE_MACSEC_KEY, "").refused_mutation_request_id(),
            None
        );
        // The event note leaves the RequestId out, so a folded series never names an old one.
        assert!(
            !refused(wire::ASSOCIATE_MACSEC_KEY, "REQ-1")
                .summary()
                .contains("REQ-1")
        );
    }
}
