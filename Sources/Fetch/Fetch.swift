// Replaced by the fetch work (issue 3).
public enum FetchPlaceholder {}
