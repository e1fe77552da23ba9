// Replaced by the recipe work (issue 3).
public enum RecipePlaceholder {}
