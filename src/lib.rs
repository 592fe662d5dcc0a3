//! macsec-operator: keeps MACsec CKN/CAK keys on Alibaba Cloud Express Connect circuits in
//! step with `MacsecKeyBinding` objects.

pub mod cli;
pub mod cloud;
pub mod controller;
pub mod credentials;
pub mod http;
pub mod metrics;
pub mod resource;
pub mod secret;
pub mod sim;
pub mod telemetry;
