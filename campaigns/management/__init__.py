"""Commands of the campaigns app, thin like the views: each calls one service."""
