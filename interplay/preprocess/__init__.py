"""From raw corpus files to normalized dialogues, seed profiles, splits and role-specific SFT sets."""
