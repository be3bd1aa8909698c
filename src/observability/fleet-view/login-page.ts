/**
 * The small sign-in page shown instead of the dashboard when authentication is on and the caller
 * brought no acceptable token: one field for the bearer token (what `mesh --token` takes), posted
 * to `/ui/login`, which keeps it in an HttpOnly cookie for the page and its stream.
 */

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page, with `reason` (why the last attempt was refused) shown above the form. */
export function loginPage(reason: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>InferMesh dashboard · sign in</title>
<link rel="stylesheet" href="/ui/app.css">
</head>
<body class="login">
<form method="post" action="/ui/login" class="login-form">
  <h1>InferMesh</h1>
  <p>The dashboard follows the control API's authentication: paste a bearer token with role
  <code>viewer</code> or above.</p>
  <p class="login-reason" id="login-reason">${escape(reason)}</p>
  <label for="token">Bearer token</label>
  <input id="token" name="token" type="password" autocomplete="off" required autofocus>
  <button type="submit">Sign in</button>
</form>
</body>
</html>
`;
}
