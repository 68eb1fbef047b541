"""Operating the config folder: validated deploys with backups, restores, and an audit trail."""
