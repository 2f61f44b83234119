"""Rendering: app specs, kustomize trees and templates into each environment's manifests."""
