//! CloudFormation-style call chains (initiate → translate → call → stabilize →
//! progress), with a serializable memo. Not implemented yet.
