/// Placeholder: filled by a later issue.
enum TetherClientModule {}
