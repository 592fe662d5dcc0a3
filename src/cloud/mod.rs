//! The Alibaba Cloud VPC API: request signing, the wire format, errors, and the client.

pub mod client;
pub mod error;
pub mod signer;
pub mod wire;

pub use client::{AssociateKey, VpcClient};
pub use error::{CloudError, ErrorKind};
