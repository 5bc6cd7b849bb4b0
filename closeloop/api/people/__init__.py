"""Organizations and contacts over the API (`/organizations`, `/contacts`)."""
