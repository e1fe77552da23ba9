public enum RankPlaceholder {}
