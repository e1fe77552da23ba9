// Replaced by the store work (issue 3).
public enum StorePlaceholder {}
