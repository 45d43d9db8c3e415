"""The relay (influencer) directory: relays, accounts, history, shortlists, import/export."""
