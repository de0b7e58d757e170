"""Commands of the media library, thin like the views: each calls one service."""
