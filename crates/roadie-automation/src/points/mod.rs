//! Points: the accrual rules (watch time and chat activity) and the ledger's domain
//! math (idempotent entries, linked accounts sharing one balance).

pub mod accrual;
pub mod ledger;
