"""The Performance Center: the Emails and SMS dashboards, served as HTML pages
that read only through the control plane's gRPC API with each person's
dashboard key."""
