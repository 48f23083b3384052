// eventshop's GraphiQL page (api/graphiql.py serves it at the GraphQL endpoint, GET from a browser).
// Queries and mutations go to this page's own URL over HTTP (POST), subscriptions to the same URL
// over WebSocket (graphql-transport-ws). The credential is the Authorization header of the Headers
// tab: it goes with every HTTP request and, for a subscription, in the connection_init payload.
// While it still holds the placeholder, no credential is sent (reads stay open), so the schema loads.
(function () {
  "use strict";

  var PLACEHOLDER = "Bearer <paste a token>";
  var DEFAULT_QUERY = [
    "# eventshop's GraphQL API. Run with Ctrl-Enter or the play button.",
    "#",
    "# Reads are open. Mutations need a credential: in Headers",
    "# below, replace <paste a token> with a token (the one",
    "# `eventshop up` printed, or `eventshop token --sub me",
    "# --role catalog:write`) or an API key. Headers are not saved.",
    "# Subscriptions use a WebSocket on this same URL.",
    "",
    "{",
    "  products(first: 5) {",
    "    totalCount",
    "    edges { node { id sku name price { amount currency } } }",
    "  }",
    "}",
    "",
  ].join("\n");

  var here = window.location;
  var url = here.origin + here.pathname;
  var subscriptionUrl = (here.protocol === "https:" ? "wss://" : "ws://") + here.host + here.pathname;

  // Headers without an Authorization that is empty or still the placeholder.
  function withCredential(headers) {
    var sent = {};
    Object.keys(headers || {}).forEach(function (name) {
      var value = headers[name];
      var unset = typeof value !== "string" || /^\s*(bearer\s*)?(<[^>]*>)?\s*$/i.test(value);
      if (name.toLowerCase() === "authorization" && unset) {
        return;
      }
      sent[name] = value;
    });
    return sent;
  }

  var fetchGraphQL = GraphiQL.createFetcher({
    url: url,
    subscriptionUrl: subscriptionUrl,
    enableIncrementalDelivery: false,
  });

  function fetcher(params, options) {
    var headers = withCredential(options && options.headers);
    return fetchGraphQL(params, Object.assign({}, options, { headers: headers }));
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: DEFAULT_QUERY,
      defaultHeaders: JSON.stringify({ Authorization: PLACEHOLDER }, null, 2),
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    }),
  );
})();
