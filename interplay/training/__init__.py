"""Per-role LoRA fine-tuning: chat encoding with role-only labels, batching, training, generation."""
