// Replaced by the attestation work (issue 5).
public enum AttestPlaceholder {}
