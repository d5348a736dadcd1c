"""Azure Functions entry point: creates the app and registers the blueprints of functions/. No logic here."""

import azure.functions as func

from functions import checks, collect, console, health, insights, openapi, review, sync

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in (checks.bp, collect.bp, health.bp, sync.bp, review.bp, openapi.bp, console.bp, insights.bp):
    app.register_functions(blueprint)
