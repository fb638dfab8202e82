"""Community meetings: the catalog, sign-ups and the texts about them."""
