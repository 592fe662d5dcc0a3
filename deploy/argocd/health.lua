-- Argo CD health check for macsec.expressconnect.io/MacsecKeyBinding.
--
-- Argo CD runs this with gopher-lua (Lua 5.1): it reads the global `obj` (the live
-- object) and the chunk returns {status = ..., message = ...}. This file is the single
-- source; deploy/argocd/render.sh embeds it in argocd-cm-patch.yaml. Scripts from
-- argocd-cm get only the base, table and a safe os library: no string library, so no
-- string.* functions and no method calls on strings.
--
--   being deleted                          Progressing  (names the finalizers holding it)
--   status not yet for this generation     Progressing
--   Synced=False                           Degraded     (the Alibaba error code or local reason)
--   Ready=True                             Healthy
--   Ready=False Conflict, CircuitNotFound,
--     CipherSuiteMismatch, AssociatedFailed Degraded
--   Ready=False Absent, adopted key        Degraded     (nothing to adopt; the operator cannot create it)
--   Ready=False Disassociated, adopted key Healthy      (a standby key: present, not active)
--   Ready=False Standby (rotation)         Healthy      (a younger binding holds the port)
--   anything else                          Progressing  (the operator is still converging)

local hs = {}

local function condition(kind)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local function describe(c)
  local reason = c.reason or "Unknown"
  if c.message ~= nil and c.message ~= "" then
    return reason .. ": " .. c.message
  end
  return reason
end

local meta = obj.metadata or {}
local synced = condition("Synced")
local ready = condition("Ready")

-- Being deleted: the operator keeps its finalizer until the cloud is as the deletion
-- policy wants it, which can take retries; say who holds the object and why.
if meta.deletionTimestamp ~= nil then
  local finalizers = meta.finalizers or {}
  if #finalizers == 0 then
    hs.status = "Progressing"
    hs.message = "deleting"
    return hs
  end
  local noun = "finalizer"
  if #finalizers > 1 then
    noun = "finalizers"
  end
  hs.status = "Progressing"
  hs.message = "deleting: waiting for " .. noun .. " " .. table.concat(finalizers, ", ")
  if synced ~= nil and synced.status == "False" then
    hs.message = hs.message .. " (" .. describe(synced) .. ")"
  end
  return hs
end

-- A status that describes an older generation (or none) says nothing about this spec.
-- tonumber: Argo CD may hand over an integer as a JSON number string.
local generation = tonumber(meta.generation)
local observed = nil
if obj.status ~= nil then
  observed = tonumber(obj.status.observedGeneration)
end
if observed == nil or (generation ~= nil and observed < generation) then
  hs.status = "Progressing"
  if generation ~= nil then
    hs.message = "waiting for the operator to observe generation " .. tostring(generation)
  else
    hs.message = "waiting for the operator to observe this binding"
  end
  return hs
end

-- The last reconcile failed: the reason is the Alibaba error code (Throttling.User,
-- IllegalParam.Ckn, SignatureDoesNotMatch, ...) or a local one (CredentialsMissing,
-- CakSecretInvalid, Conflict, ...).
if synced ~= nil and synced.status == "False" then
  hs.status = "Degraded"
  hs.message = describe(synced)
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or "the key is associated on the circuit"
  return hs
end

if ready ~= nil and ready.status == "False" then
  local reason = ready.reason
  -- Whether the binding manages the key (it has the CAK and associates it) or adopts a
  -- key configured elsewhere (it only observes it).
  local adopted = obj.spec == nil or obj.spec.cakSecretRef == nil
  if reason == "Conflict" or reason == "CircuitNotFound" or reason == "CipherSuiteMismatch" then
    hs.status = "Degraded"
    hs.message = describe(ready)
    return hs
  end
  if reason == "AssociatedFailed" then
    hs.status = "Degraded"
    hs.message = describe(ready)
      .. "; MACsec did not come up on the port: check the CKN, CAK and cipher suite on the peer device"
    return hs
  end
  if reason == "Absent" and adopted then
    hs.status = "Degraded"
    hs.message = describe(ready)
      .. "; this binding adopts a key configured elsewhere (no cakSecretRef), so the operator will not create it"
    return hs
  end
  -- A standby key (rotation keeps up to three per port, one active) is where it should
  -- be. Not Suspended: Argo CD never finishes a sync wave on a Suspended resource.
  -- The operator says Standby for a managed key whose circuit a younger binding holds
  -- (a key rotation): the same healthy state.
  if (reason == "Disassociated" and adopted) or reason == "Standby" then
    hs.status = "Healthy"
    hs.message = "standby key: present on the circuit, not the active key (" .. describe(ready) .. ")"
    return hs
  end
  hs.status = "Progressing"
  hs.message = describe(ready)
  if (reason == "Absent" or reason == "Disassociated") and not adopted then
    hs.message = hs.message .. "; the operator associates it"
  end
  return hs
end

hs.status = "Progressing"
hs.message = "waiting for the operator to report readiness"
return hs
