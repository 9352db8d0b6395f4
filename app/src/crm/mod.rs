//! The call-centre CRM: contact bases first; campaigns, forms, argument trees and the agent desk
//! build on them.

pub mod agents;
pub mod campaigns;
pub mod contacts;
pub mod desk;
pub mod forms;
pub mod sales;
pub mod stats;
pub mod trees;
