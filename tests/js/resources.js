// check_page: the page's own request and every resource it fetched, from the Performance API.
return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
  .map(e => ({name: e.name, initiator: e.initiatorType || e.entryType,
              status: (typeof e.responseStatus === 'number') ? e.responseStatus : null}));
